package daemon

import (
	"context"

	"github.com/trailguard/trailguard/config"
	"github.com/trailguard/trailguard/source/dir"
)

// dirSource is source.type dir: log files from a local directory, read once
// or watched.
type dirSource struct{ *dir.Source }

func newDirSource(_ context.Context, cfg *config.Config, deps sourceDeps) (Source, error) {
	s, err := dir.New(cfg.Source.Dir, dir.Deps{Logger: deps.log})
	if err != nil {
		return nil, err
	}
	return dirSource{s}, nil
}

func (s dirSource) Run(ctx context.Context, handle Handle) error {
	return s.Source.Run(ctx, func(ctx context.Context, path string) error {
		return handle(ctx, Input{ID: path, File: path})
	})
}

// Serial: files are read one at a time, so each uses every core.
func (dirSource) Serial() bool { return true }
