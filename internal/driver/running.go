package driver

import (
	"os"
	"slices"
	"strings"
)

// LocalUpdate is a pulumi CLI process on this machine that works on the
// stack: while one runs, its lock is not stale.
type LocalUpdate struct {
	PID     int
	Command string
	// Why says how it was found: the lock names it, or a scan of this
	// machine's processes found a pulumi command for the stack.
	Why string
}

// RunningLocally returns the pulumi processes on this machine that may be
// updating t's stack: the live process a lock taken on this host names,
// and (where the OS lets us list processes) any pulumi command for the
// stack on the same backend. It cannot see other machines: a lock taken
// elsewhere is the operator's call (docs/operations.md).
func RunningLocally(t LockTarget, locks []Lock) []LocalUpdate {
	host, _ := os.Hostname()
	var out []LocalUpdate
	for _, l := range locks {
		if l.Host != host || l.PID <= 0 {
			continue
		}
		if cmd, alive := pulumiProcess(l.PID); alive {
			out = append(out, LocalUpdate{PID: l.PID, Command: cmd, Why: "holds the lock " + l.Key})
		}
	}
	for _, p := range pulumiProcesses() {
		if slices.ContainsFunc(out, func(u LocalUpdate) bool { return u.PID == p.pid }) {
			continue
		}
		if !forStack(p.args, t.Stack) {
			continue
		}
		// A process of another backend (another checkout, a test) is not
		// this stack; an unreadable environment counts, to be safe.
		if p.envKnown && p.backend != t.Backend.URL {
			continue
		}
		out = append(out, LocalUpdate{PID: p.pid, Command: strings.Join(p.args, " "), Why: "a pulumi command for this stack is running"})
	}
	return out
}

// localProc is a pulumi process found by the scan.
type localProc struct {
	pid      int
	args     []string
	backend  string
	envKnown bool
}

// forStack is true when the arguments select the stack (--stack s,
// --stack=s, -s s, or a fully qualified org/project/s).
func forStack(args []string, stack string) bool {
	match := func(v string) bool { return v == stack || strings.HasSuffix(v, "/"+stack) }
	for i, a := range args {
		if (a == "--stack" || a == "-s") && i+1 < len(args) && match(args[i+1]) {
			return true
		}
		if v, ok := strings.CutPrefix(a, "--stack="); ok && match(v) {
			return true
		}
	}
	return false
}
