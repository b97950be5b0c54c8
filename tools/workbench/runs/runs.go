// Package runs reads stored runs, the workbench's own and Maelstrom's
// (results.edn, history.edn and jepsen.log instead of results.json,
// history.json and test.json), for the commands that look at runs after
// the fact: serve, analyze and compare. Every read goes through an
// os.Root, refuses anything but a regular file and is capped in size, so
// a store holding a FIFO, a symlink out of the store or a huge file
// cannot hang or exhaust whoever reads it.
package runs

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"syscall"

	"github.com/glomers/glomers/tools/workbench/edn"
	"github.com/glomers/glomers/tools/workbench/history"
	"github.com/glomers/glomers/tools/workbench/maelstromstore"
)

// Size caps for the files read whole. Histories are read line by line and
// bounded by MaxHistoryBytes.
const (
	MaxSmallBytes   = 1 << 20   // test.json
	MaxResultsBytes = 32 << 20  // results.json / results.edn
	MaxLogBytes     = 64 << 20  // jepsen.log(.gz), of which only the head is read
	MaxHistoryBytes = 1 << 30   // history.json / history.edn
	maxHistoryLine  = 256 << 20 // one op
)

// ErrNotRegular is returned for FIFOs, devices, sockets and directories.
var ErrNotRegular = errors.New("not a regular file")

// Open opens name under root for reading if it is a regular file. The
// open does not block on a FIFO (O_NONBLOCK), and the check is made on
// the opened file, so a file swapped for a FIFO after a listing is still
// refused.
func Open(root *os.Root, name string) (*os.File, fs.FileInfo, error) {
	f, err := root.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, nil, fmt.Errorf("%s: %w", name, ErrNotRegular)
	}
	return f, st, nil
}

// ReadFile reads a regular file under root, at most limit bytes.
func ReadFile(root *os.Root, name string, limit int64) ([]byte, error) {
	f, st, err := Open(root, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st.Size() > limit {
		return nil, fmt.Errorf("%s: %d bytes, more than the %d this reads", name, st.Size(), limit)
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: grew past %d bytes while being read", name, limit)
	}
	return b, nil
}

// Format says who wrote a run.
const (
	Workbench = "workbench"
	Maelstrom = "maelstrom"
)

// Info is what a run records about itself beyond its verdict.
type Info struct {
	Format    string            // Workbench or Maelstrom
	Command   []string          // the command line, e.g. workbench test -w echo …
	BinSHA256 string            // the node binary's digest (workbench runs)
	NodeEnv   map[string]string // the node environment the run recorded
	Test      json.RawMessage   // test.json as stored (workbench runs)
}

// EnvString renders the node environment as sorted NAME=VALUE words.
func (i Info) EnvString() string {
	keys := make([]string, 0, len(i.NodeEnv))
	for k := range i.NodeEnv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for n, k := range keys {
		parts[n] = k + "=" + i.NodeEnv[k]
	}
	return strings.Join(parts, " ")
}

// CommandString renders the command line, quoting words that need it.
func (i Info) CommandString() string {
	parts := make([]string, len(i.Command))
	for n, w := range i.Command {
		if w == "" || strings.ContainsAny(w, " \t\n'\"$`\\*?;&|<>()") {
			w = "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
		}
		parts[n] = w
	}
	return strings.Join(parts, " ")
}

// ReadInfo reads test.json, or for a Maelstrom run the command line
// jepsen.log starts with. A run with neither has an empty Info.
func ReadInfo(root *os.Root, dir string) (Info, error) {
	b, err := ReadFile(root, path.Join(dir, "test.json"), MaxSmallBytes)
	if err == nil {
		var t struct {
			Command   []string          `json:"command"`
			BinSHA256 string            `json:"bin-sha256"`
			NodeEnv   map[string]string `json:"node-env"`
		}
		if err := json.Unmarshal(b, &t); err != nil {
			return Info{}, fmt.Errorf("%s: test.json: %w", dir, err)
		}
		return Info{Format: Workbench, Command: t.Command, BinSHA256: t.BinSHA256, NodeEnv: t.NodeEnv, Test: b}, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return Info{}, fmt.Errorf("%s: %w", dir, err)
	}
	info := Info{}
	if _, err := root.Stat(path.Join(dir, "results.edn")); err == nil {
		info.Format = Maelstrom
	} else if _, err := root.Stat(path.Join(dir, "history.edn")); err == nil {
		info.Format = Maelstrom
	}
	if info.Format == Maelstrom {
		info.Command = maelstromCommand(root, dir)
	}
	return info, nil
}

// maelstromCommand finds the "Command line:" that Jepsen logs first, in
// jepsen.log or jepsen.log.gz; nil if there is none.
func maelstromCommand(root *os.Root, dir string) []string {
	for _, name := range []string{"jepsen.log", "jepsen.log.gz"} {
		f, _, err := Open(root, path.Join(dir, name))
		if err != nil {
			continue
		}
		defer f.Close()
		var r io.Reader = io.LimitReader(f, MaxLogBytes)
		if strings.HasSuffix(name, ".gz") {
			gz, err := gzip.NewReader(r)
			if err != nil {
				continue
			}
			r = io.LimitReader(gz, MaxLogBytes)
		}
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for lines := 0; sc.Scan() && lines < 50; lines++ {
			if strings.HasSuffix(sc.Text(), "Command line:") && sc.Scan() {
				return strings.Fields(sc.Text())
			}
		}
	}
	return nil
}

// ReadResults reads results.json, or results.edn when there is none (a
// Maelstrom run). Numbers are json.Number. A run with neither has nil
// results and no error.
func ReadResults(root *os.Root, dir string) (map[string]any, error) {
	b, err := ReadFile(root, path.Join(dir, "results.json"), MaxResultsBytes)
	if err == nil {
		var res map[string]any
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		if err := d.Decode(&res); err != nil {
			return nil, fmt.Errorf("%s: results.json: %w", dir, err)
		}
		return res, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	b, err = ReadFile(root, path.Join(dir, "results.edn"), MaxResultsBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	v, err := edn.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("%s: results.edn: %w", dir, err)
	}
	res, ok := maelstromstore.Plain(v).(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: results.edn is not a map", dir)
	}
	return res, nil
}

// ReadHistory reads history.json (one op per line), or history.edn (one
// op map per line, as Maelstrom writes it) when there is none.
func ReadHistory(root *os.Root, dir string) (history.History, error) {
	return ReadHistoryLimit(root, dir, MaxHistoryBytes)
}

// ReadHistoryLimit is ReadHistory refusing histories over limit bytes.
func ReadHistoryLimit(root *os.Root, dir string, limit int64) (history.History, error) {
	f, _, err := Open(root, path.Join(dir, "history.json"))
	parse := jsonOp
	name := "history.json"
	if errors.Is(err, fs.ErrNotExist) {
		f, _, err = Open(root, path.Join(dir, "history.edn"))
		parse, name = ednOp, "history.edn"
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > limit {
		return nil, fmt.Errorf("%s: %s is %d bytes, more than the %d this reads", dir, name, st.Size(), limit)
	}
	var h history.History
	sc := bufio.NewScanner(io.LimitReader(f, limit))
	sc.Buffer(make([]byte, 1<<20), maxHistoryLine)
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		op, err := parse(sc.Bytes())
		if err != nil {
			return nil, fmt.Errorf("%s: %s line %d: %w", dir, name, line, err)
		}
		h = append(h, op)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %s: %w", dir, name, err)
	}
	return h, nil
}

func jsonOp(line []byte) (history.Op, error) {
	var op history.Op
	d := json.NewDecoder(bytes.NewReader(line))
	d.UseNumber()
	err := d.Decode(&op)
	return op, err
}

// ednOp reads one of Maelstrom's op maps: {:index 0, :time 29362309,
// :type :invoke, :process 0, :f :echo, :value "Please echo 54"}, with
// :process :nemesis for the nemesis.
func ednOp(line []byte) (history.Op, error) {
	v, err := edn.Decode(line)
	if err != nil {
		return history.Op{}, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return history.Op{}, errors.New("not a map")
	}
	return maelstromstore.Op(m)
}

// Run is a stored run read back.
type Run struct {
	Dir     string
	Info    Info
	Results map[string]any
	History history.History
	// HistoryErr is why History is missing (LoadFrom only; Load fails).
	HistoryErr error
}

// Load reads a whole run (info, results and history) from the directory
// dir, which may be a workbench or a Maelstrom run.
func Load(dir string) (*Run, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("load run: %w", err)
	}
	defer root.Close()
	r, err := LoadFrom(root, ".", MaxHistoryBytes)
	if err != nil {
		return nil, fmt.Errorf("load run %s: %w", dir, err)
	}
	if r.HistoryErr != nil {
		return nil, fmt.Errorf("load run %s: %w", dir, r.HistoryErr)
	}
	r.Dir = dir
	return r, nil
}

// LoadFrom reads the run in dir under root. A history that is missing,
// broken or larger than historyLimit leaves History nil with HistoryErr
// set, so a caller that can do without it (serve's compare page) still
// gets the rest.
func LoadFrom(root *os.Root, dir string, historyLimit int64) (*Run, error) {
	r := &Run{Dir: dir}
	var err error
	if r.Info, err = ReadInfo(root, dir); err != nil {
		return nil, err
	}
	if r.Results, err = ReadResults(root, dir); err != nil {
		return nil, err
	}
	r.History, r.HistoryErr = ReadHistoryLimit(root, dir, historyLimit)
	return r, nil
}
