package driver

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// pulumiProcess says whether pid is a live (not zombie) process and, when
// its command line is readable, whether it is a pulumi CLI: a reused pid
// of another program does not hold the lock.
func pulumiProcess(pid int) (string, bool) {
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return "", false
	}
	// The state follows the parenthesised command name: "pid (comm) S ...".
	if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) && (stat[i+2] == 'Z' || stat[i+2] == 'X') {
		return "", false
	}
	args := procArgs(pid)
	if len(args) == 0 {
		return "(command line unreadable)", true
	}
	if !isPulumi(args[0]) {
		return "", false
	}
	return strings.Join(args, " "), true
}

func procArgs(pid int) []string {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	if err != nil || len(b) == 0 {
		return nil
	}
	return strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
}

func isPulumi(argv0 string) bool { return filepath.Base(argv0) == "pulumi" }

// pulumiProcesses lists this machine's live pulumi CLI processes with the
// backend they use (PULUMI_BACKEND_URL), when their environment is readable.
func pulumiProcesses() []localProc {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []localProc
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		args := procArgs(pid)
		if len(args) == 0 || !isPulumi(args[0]) {
			continue
		}
		if _, alive := pulumiProcess(pid); !alive {
			continue
		}
		p := localProc{pid: pid, args: args}
		if env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ")); err == nil {
			p.envKnown = true
			for _, kv := range strings.Split(string(env), "\x00") {
				if v, ok := strings.CutPrefix(kv, "PULUMI_BACKEND_URL="); ok {
					p.backend = v
				}
			}
		}
		out = append(out, p)
	}
	return out
}
