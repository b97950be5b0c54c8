package process

import (
	"errors"
	"os"
	"os/exec"
	"sync"
	"syscall"
)

// How a node's process tree is contained, strongest first.
//
// A process group alone does not own a tree: a grandchild that calls
// setsid leaves the group, and once the workbench is SIGKILLed nobody is
// left to kill the group anyway. A PID namespace does own it: the node is
// its namespace's init, and when the init dies the kernel SIGKILLs every
// other process in the namespace, setsid or not. Pdeathsig kills the node
// when the workbench dies, however it dies, so nothing outlives the
// workbench. Creating a PID namespace needs CAP_SYS_ADMIN (as root), or an
// unprivileged user namespace to hold it; if the kernel allows neither, the
// node runs in its own process group only, and a grandchild that escapes
// the group (setsid) can outlive the run.
const (
	containPIDNS     = "pid-namespace"
	containUserPIDNS = "user+pid-namespace"
	containPgroup    = "process-group"
)

var (
	containMu sync.Mutex
	// containFrom is the first mode worth trying: modes the kernel refused
	// once are not tried again.
	containFrom int
)

var containModes = []string{containPIDNS, containUserPIDNS, containPgroup}

func sysProcAttr(mode string) *syscall.SysProcAttr {
	// Setpgid keeps teardown's kill(-pgid) working in every mode, and
	// Pdeathsig kills the node if the workbench dies without tearing down.
	// (Pdeathsig follows the OS thread that started the node; the
	// workbench never ends a thread, as Go only does for a goroutine that
	// exits while locked to its thread.)
	a := &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	switch mode {
	case containPIDNS:
		a.Cloneflags = syscall.CLONE_NEWPID
	case containUserPIDNS:
		// Map our own ids to themselves, so the node keeps the
		// workbench's identity and file access.
		a.Cloneflags = syscall.CLONE_NEWUSER | syscall.CLONE_NEWPID
		a.UidMappings = []syscall.SysProcIDMap{{ContainerID: os.Getuid(), HostID: os.Getuid(), Size: 1}}
		a.GidMappings = []syscall.SysProcIDMap{{ContainerID: os.Getgid(), HostID: os.Getgid(), Size: 1}}
		a.GidMappingsEnableSetgroups = false
	}
	return a
}

// startContained starts bin in the strongest containment the kernel
// grants and says which it got.
func startContained(bin string, args []string, dir string, stdin, stdout, stderr *os.File) (*exec.Cmd, string, error) {
	containMu.Lock()
	from := containFrom
	containMu.Unlock()
	var err error
	for i := from; i < len(containModes); i++ {
		mode := containModes[i]
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
		cmd.SysProcAttr = sysProcAttr(mode)
		err = cmd.Start()
		if err == nil {
			return cmd, mode, nil
		}
		if mode == containPgroup || !refused(err) {
			return nil, "", err
		}
		containMu.Lock()
		containFrom = max(containFrom, i+1)
		containMu.Unlock()
	}
	return nil, "", err
}

// refused reports whether a start failed because the kernel would not
// create the namespace (rather than, say, a missing binary).
func refused(err error) bool {
	return errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EINVAL) ||
		errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EUSERS)
}
