// Command testnode is a tiny Maelstrom node for the workbench's own tests.
// Its first argument picks a behaviour: ok (correct echo and unique ids),
// silent, malformed, wrong-echo, extra-key, dup-ids, crash, no-init,
// stray (sends to the unknown node n99 before each echo reply), trailing
// (puts junk after each reply on the same line), spawn (starts a long-lived child first; its pid goes to the file named
// by the second argument), zero-read (txn-rw-register reads of unwritten keys return 0, not null).
// Transactions are applied to one local store in arrival order.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
)

func main() {
	mode := "ok"
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	if mode == "spawn" {
		child := exec.Command("sleep", "1000")
		if err := child.Start(); err != nil {
			fmt.Fprintln(os.Stderr, "spawn:", err)
			os.Exit(1)
		}
		os.WriteFile(os.Args[2], []byte(strconv.Itoa(child.Process.Pid)), 0o644)
	}
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<26)
	out := json.NewEncoder(os.Stdout)
	self := ""
	next := 0
	store := map[string]any{}
	for in.Scan() {
		var msg struct {
			Src  string         `json:"src"`
			Dest string         `json:"dest"`
			Body map[string]any `json:"body"`
		}
		if err := json.Unmarshal(in.Bytes(), &msg); err != nil {
			fmt.Fprintln(os.Stderr, "bad input:", err)
			continue
		}
		fmt.Fprintln(os.Stderr, "got", in.Text())
		reply := map[string]any{"in_reply_to": msg.Body["msg_id"]}
		switch msg.Body["type"] {
		case "init":
			if mode == "no-init" {
				continue
			}
			self, _ = msg.Body["node_id"].(string)
			reply["type"] = "init_ok"
		case "echo":
			switch mode {
			case "silent":
				continue
			case "malformed":
				fmt.Println("this is not JSON")
				continue
			case "crash":
				fmt.Fprintln(os.Stderr, "crashing on purpose")
				os.Exit(3)
			case "stray":
				out.Encode(map[string]any{"src": self, "dest": "n99", "body": map[string]any{"type": "gossip"}})
				reply["echo"] = msg.Body["echo"]
			case "trailing":
				reply["echo"] = msg.Body["echo"]
				reply["type"] = "echo_ok"
				b, _ := json.Marshal(map[string]any{"src": self, "dest": msg.Src, "body": reply})
				fmt.Printf("%s {\"junk\": true}\n", b)
				continue
			case "wrong-echo":
				reply["echo"] = "something else"
			case "extra-key":
				reply["echo"] = msg.Body["echo"]
				reply["extra"] = true
			default:
				reply["echo"] = msg.Body["echo"]
			}
			reply["type"] = "echo_ok"
		case "generate":
			if mode == "silent" {
				continue
			}
			next++
			reply["type"] = "generate_ok"
			if mode == "dup-ids" {
				reply["id"] = next
			} else {
				reply["id"] = self + "-" + strconv.Itoa(next)
			}
		case "txn":
			txn, _ := msg.Body["txn"].([]any)
			for _, m := range txn {
				mop, _ := m.([]any)
				if len(mop) != 3 {
					continue
				}
				k := fmt.Sprint(mop[1])
				switch mop[0] {
				case "r":
					v, ok := store[k]
					if !ok && mode == "zero-read" {
						v = 0
					}
					mop[2] = v
				case "w":
					store[k] = mop[2]
				}
			}
			reply["type"] = "txn_ok"
			reply["txn"] = txn
		default:
			reply["type"] = "error"
			reply["code"] = 10
			reply["text"] = "not supported"
		}
		if err := out.Encode(map[string]any{"src": self, "dest": msg.Src, "body": reply}); err != nil {
			os.Exit(1)
		}
	}
}
