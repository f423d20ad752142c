// Command peakrss reports a command's peak resident set size as a benchmark
// line bench/cmd/report reads:
//
//	BenchmarkEvalPeakRSS/1GB 1 <ns> ns/op <MB> peak-RSS-MB <n> events/s <n> bytes/s
//
// Either it reads what `/usr/bin/time -v` wrote (-time-v FILE, with the
// command's standard error in -stderr FILE), or it runs the command itself
// (after --) and samples VmHWM in /proc/PID/status until it exits, taking the
// larger of that and the kernel's own peak from wait4 (the figure time -v
// prints). Events are read from `trailguard eval`'s closing summary line
// ("… N events …") on the command's standard error.
//go:build linux

package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	name := flag.String("name", "BenchmarkEvalPeakRSS/1GB", "benchmark name of the output line")
	inputBytes := flag.Int64("input-bytes", 0, "size of the input, for bytes/s")
	timeV := flag.String("time-v", "", "read /usr/bin/time -v output from this file instead of running a command")
	stderrFile := flag.String("stderr", "", "with -time-v: the command's standard error")
	flag.Parse()

	var m measurement
	var err error
	if *timeV != "" {
		m, err = fromTimeV(*timeV, *stderrFile)
	} else {
		if flag.NArg() == 0 {
			err = errors.New("give -time-v FILE, or a command after --")
		} else {
			m, err = runAndSample(flag.Args())
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "peakrss:", err)
		os.Exit(1)
	}
	line := fmt.Sprintf("%s\t1\t%d ns/op\t%.1f peak-RSS-MB", *name, m.elapsed.Nanoseconds(), float64(m.peakKB)/1024)
	if sec := m.elapsed.Seconds(); sec > 0 {
		if m.events > 0 {
			line += fmt.Sprintf("\t%.0f events/s", float64(m.events)/sec)
		}
		if *inputBytes > 0 {
			line += fmt.Sprintf("\t%.0f bytes/s", float64(*inputBytes)/sec)
		}
	}
	fmt.Println(line)
	fmt.Fprintf(os.Stderr, "peak RSS %.1f MB (%s), %d events in %s\n", float64(m.peakKB)/1024, m.source, m.events, m.elapsed.Round(time.Millisecond))
}

type measurement struct {
	peakKB  int64
	elapsed time.Duration
	events  int64
	source  string
}

var (
	maxRSSRE  = regexp.MustCompile(`Maximum resident set size \(kbytes\): (\d+)`)
	elapsedRE = regexp.MustCompile(`Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([0-9:.]+)`)
	eventsRE  = regexp.MustCompile(`(\d+) events`)
)

func fromTimeV(path, stderrPath string) (measurement, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return measurement{}, err
	}
	m := measurement{source: "/usr/bin/time -v"}
	rss := maxRSSRE.FindSubmatch(b)
	if rss == nil {
		return m, fmt.Errorf("%s: no \"Maximum resident set size\" line", path)
	}
	m.peakKB, _ = strconv.ParseInt(string(rss[1]), 10, 64)
	if e := elapsedRE.FindSubmatch(b); e != nil {
		m.elapsed = parseClock(string(e[1]))
	}
	if stderrPath != "" {
		s, err := os.ReadFile(stderrPath)
		if err != nil {
			return m, err
		}
		m.events = lastEvents(s)
	}
	return m, nil
}

// parseClock reads time -v's elapsed time: [h:]mm:ss.ss.
func parseClock(s string) time.Duration {
	var total float64
	for _, part := range strings.Split(s, ":") {
		v, _ := strconv.ParseFloat(part, 64)
		total = total*60 + v
	}
	return time.Duration(total * float64(time.Second))
}

func lastEvents(stderr []byte) int64 {
	var n int64
	sc := bufio.NewScanner(bytes.NewReader(stderr))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if m := eventsRE.FindStringSubmatch(sc.Text()); m != nil {
			n, _ = strconv.ParseInt(m[1], 10, 64)
		}
	}
	return n
}

func runAndSample(args []string) (measurement, error) {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout = io.Discard
	var stderr bytes.Buffer
	cmd.Stderr = io.MultiWriter(os.Stderr, &stderr)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return measurement{}, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	status := fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)
	var hwm int64
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case err := <-done:
			m := measurement{peakKB: hwm, elapsed: time.Since(start), events: lastEvents(stderr.Bytes()), source: "VmHWM sampled from /proc"}
			if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok && ru.Maxrss > m.peakKB {
				m.peakKB, m.source = ru.Maxrss, "wait4 ru_maxrss"
			}
			if err != nil {
				return m, fmt.Errorf("%s: %w", strings.Join(args, " "), err)
			}
			return m, nil
		case <-t.C:
			if kb := vmHWM(status); kb > hwm {
				hwm = kb
			}
		}
	}
}

// vmHWM reads the peak resident set size (kB) from a /proc/PID/status file.
func vmHWM(path string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				return n
			}
		}
	}
	return 0
}
