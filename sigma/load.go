package sigma

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// LoadPaths compiles every .yml/.yaml Sigma rule in the given files and
// directories (walked recursively, hidden directories skipped). It reports
// every problem at once: errs holds one error per broken rule, each naming
// file:line and the feature at fault. Rules for another log source are
// skipped, with the reason. Correlation rules are compiled with the rules they
// refer to (see planCorrelations), which may be in any of the files.
func LoadPaths(paths []string, opts Options) (rules []*Rule, skipped []Skip, errs []error) {
	files, err := ruleFiles(paths)
	if err != nil {
		return nil, nil, []error{err}
	}
	type detEntry struct {
		d     *document
		r     *Rule
		probs []Problem
	}
	var dets []detEntry
	var corrs []*corrEntry
	byID := map[string]*Rule{}
	byName := map[string]*Rule{}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			errs = append(errs, fmt.Errorf("sigma: %w", err))
			continue
		}
		docs, err := parseFile(f, src)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, d := range docs {
			r, probs := d.meta()
			if d.skip != "" {
				skipped = append(skipped, Skip{File: f, Line: d.line, Title: r.Title, Reason: d.skip})
				continue
			}
			if d.correlation != nil {
				c, cp := parseCorrelation(d)
				r.Correlation = c
				if probs = append(probs, cp...); len(probs) > 0 {
					errs = append(errs, &Error{Problems: probs})
					continue
				}
			}
			if prev, dup := byID[r.ID]; dup && r.ID != "" {
				errs = append(errs, fmt.Errorf("%s:%d: id %s is also used by %s:%d", r.File, r.Line, r.ID, prev.File, prev.Line))
				continue
			}
			byID[r.ID] = r
			if r.Name != "" {
				byName[r.Name] = r
			}
			if r.Correlation != nil {
				corrs = append(corrs, &corrEntry{d: d, r: r})
			} else {
				dets = append(dets, detEntry{d, r, probs})
			}
		}
	}
	uses, corrProbs := planCorrelations(corrs, byID, byName)
	for _, e := range dets {
		if err := compileDetection(e.d, e.r, e.probs, opts, uses[e.r]); err != nil {
			errs = append(errs, err)
			continue
		}
		rules = append(rules, e.r)
	}
	for _, c := range corrs {
		if probs := corrProbs[c.r]; len(probs) > 0 {
			errs = append(errs, &Error{Problems: probs})
			continue
		}
		rules = append(rules, c.r)
	}
	return rules, skipped, errs
}

// ruleFiles lists the .yml and .yaml files under paths, sorted.
func ruleFiles(paths []string) ([]string, error) {
	var files []string
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("sigma: %w", err)
		}
		if !info.IsDir() {
			files = append(files, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if path != p && strings.HasPrefix(d.Name(), ".") {
					return filepath.SkipDir
				}
				return nil
			}
			if ext := strings.ToLower(filepath.Ext(path)); ext == ".yml" || ext == ".yaml" {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("sigma: %w", err)
		}
	}
	sort.Strings(files)
	return files, nil
}

// Convert writes the Rego module of each rule in files (or directories) to w,
// for `trailguard sigma convert`: the author can read it, `opa eval` it, or
// commit it as a native rule. Skipped rules are noted as comments; any problem
// fails the conversion after every one has been reported.
func Convert(w io.Writer, files []string, opts Options) error {
	rules, skipped, errs := LoadPaths(files, opts)
	for i, r := range rules {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "# file: %s\n%s", r.File, r.Module)
	}
	for _, s := range skipped {
		fmt.Fprintf(w, "# skipped %s:%d (%s): %s\n", s.File, s.Line, s.Title, s.Reason)
	}
	return errors.Join(errs...)
}
