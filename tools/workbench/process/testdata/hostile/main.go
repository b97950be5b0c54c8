// Command hostile is an echo node that misbehaves on purpose, for the
// workbench's robustness tests. Its first argument picks what it does on
// top of answering init and echo correctly:
//
//	longline MIB    after init_ok, write one stdout line of MIB mebibytes
//	flood N         after init_ok, send N messages to itself as fast as it can
//	flood-deaf N    the same, and never read stdin again
//	bigflood MxN    after init_ok, send N lines of M mebibytes each to
//	                itself, never read stdin again, and then tell c0
//	                "flood_done" (a peer that stopped reading, flooded
//	                with huge lines: the queue must be bounded in bytes)
//	setsid TOKEN    start a child in a new session (setsid) and a
//	                double-forked daemon, both "sleeper TOKEN" (a test finds
//	                them by TOKEN in /proc/*/cmdline: pids seen inside a PID
//	                namespace mean nothing outside it), then echo
//	die SECONDS     exit with status 3 SECONDS after starting
//	ok              nothing else
//
// The "daemon" and "sleeper" modes are the children setsid starts.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	mode, arg := "ok", ""
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	if len(os.Args) > 2 {
		arg = os.Args[2]
	}
	switch mode {
	case "sleeper":
		time.Sleep(time.Hour)
		return
	case "daemon":
		// The middle of a double fork: start a sleeper in its own session
		// and exit, so the sleeper is orphaned.
		c := exec.Command(os.Args[0], "sleeper", arg)
		c.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		if err := c.Start(); err != nil {
			os.Exit(1)
		}
		return
	case "setsid":
		c := exec.Command(os.Args[0], "sleeper", arg)
		c.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		if err := c.Start(); err != nil {
			fmt.Fprintln(os.Stderr, "setsid:", err)
			os.Exit(1)
		}
		if err := exec.Command(os.Args[0], "daemon", arg).Run(); err != nil {
			fmt.Fprintln(os.Stderr, "daemon:", err)
			os.Exit(1)
		}
	case "die":
		secs, _ := strconv.ParseFloat(arg, 64)
		if secs <= 0 {
			// At once, before init can be answered.
			fmt.Fprintln(os.Stderr, "dying on purpose")
			os.Exit(3)
		}
		time.AfterFunc(time.Duration(secs*float64(time.Second)), func() {
			fmt.Fprintln(os.Stderr, "dying on purpose")
			os.Exit(3)
		})
	}

	out := bufio.NewWriterSize(os.Stdout, 64<<10)
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<26)
	self := ""
	for in.Scan() {
		var msg struct {
			Src  string         `json:"src"`
			Body map[string]any `json:"body"`
		}
		if err := json.Unmarshal(in.Bytes(), &msg); err != nil {
			continue
		}
		reply := map[string]any{"in_reply_to": msg.Body["msg_id"]}
		switch msg.Body["type"] {
		case "init":
			self, _ = msg.Body["node_id"].(string)
			reply["type"] = "init_ok"
		case "echo":
			reply["type"] = "echo_ok"
			reply["echo"] = msg.Body["echo"]
		default:
			continue // flood messages to self
		}
		b, _ := json.Marshal(map[string]any{"src": self, "dest": msg.Src, "body": reply})
		out.Write(b)
		out.WriteByte('\n')
		out.Flush()
		if msg.Body["type"] != "init" {
			continue
		}
		switch mode {
		case "longline":
			mib, _ := strconv.Atoi(arg)
			out.WriteString(`{"src":"` + self + `","dest":"` + self + `","body":{"type":"big","pad":"`)
			chunk := []byte(strings.Repeat("x", 1<<20))
			for i := 0; i < mib; i++ {
				out.Write(chunk)
			}
			out.WriteString("\"}}\n")
			out.Flush()
		case "bigflood":
			var mib, count int
			fmt.Sscanf(arg, "%dx%d", &mib, &count)
			head := `{"src":"` + self + `","dest":"` + self + `","body":{"type":"big","pad":"`
			chunk := []byte(strings.Repeat("z", 1<<20))
			for i := 0; i < count; i++ {
				out.WriteString(head)
				for j := 0; j < mib; j++ {
					out.Write(chunk)
				}
				out.WriteString("\"}}\n")
			}
			out.WriteString(`{"src":"` + self + `","dest":"c0","body":{"type":"flood_done"}}` + "\n")
			out.Flush()
			time.Sleep(time.Hour)
		case "flood", "flood-deaf":
			n, _ := strconv.Atoi(arg)
			line := `{"src":"` + self + `","dest":"` + self + `","body":{"type":"flood","pad":"` + strings.Repeat("y", 200) + `"}}` + "\n"
			for i := 0; i < n; i++ {
				out.WriteString(line)
			}
			out.Flush()
			if mode == "flood-deaf" {
				time.Sleep(time.Hour)
			}
		}
	}
}
