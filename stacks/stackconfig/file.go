package stackconfig

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Bounds of reading a stack file: a real one is a few hundred bytes.
const (
	MaxFileBytes = 1 << 20
	// ReadTimeout bounds reading it (a file on a hung network mount).
	ReadTimeout = 5 * time.Second
)

// readStackFile reads path, which must be a regular file of at most
// MaxFileBytes inside projectDir (a symlink is followed only to a regular
// file inside projectDir), within ReadTimeout. A device (/dev/zero), a
// FIFO, a directory or a larger file is refused naming the file, never
// opened (a FIFO would block) or read past the bound.
func readStackFile(projectDir, path string) ([]byte, error) {
	name := filepath.Base(path)
	lst, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	real := path
	if lst.Mode()&os.ModeSymlink != 0 {
		if real, err = filepath.EvalSymlinks(path); err != nil {
			return nil, fmt.Errorf("%s is a symlink that cannot be followed: %v", name, err)
		}
		root, err := filepath.EvalSymlinks(projectDir)
		if err != nil {
			return nil, fmt.Errorf("resolving the project directory %s: %w", projectDir, err)
		}
		if rel, err := filepath.Rel(root, real); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return nil, fmt.Errorf("%s is a symlink to %s, outside the project directory: a stack file must be the project's own", name, real)
		}
	}
	st, err := os.Stat(real)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (%s): a stack file must be a plain YAML file", name, describeMode(st.Mode()))
	}
	if st.Size() > MaxFileBytes {
		return nil, fmt.Errorf("%s is %d bytes: a stack file is at most %d bytes (1 MiB)", name, st.Size(), MaxFileBytes)
	}
	type result struct {
		data []byte
		err  error
	}
	done := make(chan result, 1)
	go func() {
		f, err := os.Open(real)
		if err != nil {
			done <- result{nil, err}
			return
		}
		defer f.Close()
		// The file may have changed since the Stat: check what was opened.
		if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
			done <- result{nil, fmt.Errorf("%s changed into something other than a regular file", name)}
			return
		}
		data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
		done <- result{data, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			return nil, fmt.Errorf("reading %s: %w", name, r.err)
		}
		if len(r.data) > MaxFileBytes {
			return nil, fmt.Errorf("%s grew past %d bytes while being read: a stack file is at most 1 MiB", name, MaxFileBytes)
		}
		return r.data, nil
	case <-time.After(ReadTimeout):
		return nil, fmt.Errorf("reading %s: %w after %s", name, errReadTimeout, ReadTimeout)
	}
}

var errReadTimeout = errors.New("no answer from the file system")

func describeMode(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeNamedPipe != 0:
		return "a FIFO"
	case m&os.ModeDevice != 0, m&os.ModeCharDevice != 0:
		return "a device"
	case m&os.ModeSocket != 0:
		return "a socket"
	}
	return m.Type().String()
}
