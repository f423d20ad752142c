package dir

// ForcePoll makes s poll instead of using fsnotify.
func ForcePoll(s *Source) { s.noNotify = true }
