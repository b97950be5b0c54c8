package store

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
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/glomers/glomers/tools/workbench/edn"
	"github.com/glomers/glomers/tools/workbench/history"
	"github.com/glomers/glomers/tools/workbench/network"
)

// Every read of a stored run goes through an os.Root, refuses anything but
// a regular file and is capped in size, so a store holding a FIFO, a
// symlink out of the store or a huge file cannot hang or exhaust whoever
// reads it (serve, analyze, compare).

// Size caps for the files read whole. Histories are read record by record
// and bounded by MaxHistoryBytes.
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
	b, err := ReadFile(root, path.Join(dir, TestName), MaxSmallBytes)
	if err == nil {
		var t struct {
			Command   []string          `json:"command"`
			BinSHA256 string            `json:"bin-sha256"`
			NodeEnv   map[string]string `json:"node-env"`
		}
		if err := json.Unmarshal(b, &t); err != nil {
			return Info{}, fmt.Errorf("%s: %s: %w", dir, TestName, err)
		}
		return Info{Format: Workbench, Command: t.Command, BinSHA256: t.BinSHA256, NodeEnv: t.NodeEnv, Test: b}, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return Info{}, fmt.Errorf("%s: %w", dir, err)
	}
	info := Info{}
	if _, err := root.Stat(path.Join(dir, ResultsEDNName)); err == nil {
		info.Format = Maelstrom
	} else if _, err := root.Stat(path.Join(dir, MaelstromHistoryName)); err == nil {
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
	for _, name := range []string{LogName, MaelstromLogGzName} {
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
	b, err := ReadFile(root, path.Join(dir, ResultsName), MaxResultsBytes)
	if err == nil {
		var res map[string]any
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		if err := d.Decode(&res); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", dir, ResultsName, err)
		}
		return res, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	b, err = ReadFile(root, path.Join(dir, ResultsEDNName), MaxResultsBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	v, err := edn.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", dir, ResultsEDNName, err)
	}
	res, ok := Plain(v).(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: %s is not a map", dir, ResultsEDNName)
	}
	return res, nil
}

// ReadHistory reads the run's history.json (one op per line), or a
// Maelstrom run's history.edn (one op map per line, possibly gzipped) when
// there is none,
// refusing histories over limit bytes. A last op cut short (a run killed
// mid-write) is left out and reported in the Tail.
func ReadHistory(root *os.Root, dir string, limit int64) (history.History, Tail, error) {
	var f *os.File
	var err error
	var name string
	for _, name = range []string{HistoryName, MaelstromHistoryName, MaelstromHistoryName + ".gz"} {
		if f, _, err = Open(root, path.Join(dir, name)); !errors.Is(err, fs.ErrNotExist) {
			break
		}
	}
	if errors.Is(err, fs.ErrNotExist) {
		name = HistoryName // name the workbench's own in the error
	}
	if err != nil {
		return nil, Tail{File: name, CutAt: -1}, fmt.Errorf("%s: %w", dir, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, Tail{File: name, CutAt: -1}, fmt.Errorf("%s: %w", dir, err)
	}
	if st.Size() > limit {
		return nil, Tail{File: name, CutAt: -1}, fmt.Errorf("%s: %s is %d bytes, more than the %d this reads", dir, name, st.Size(), limit)
	}
	var h history.History
	var tail Tail
	var r io.Reader = io.LimitReader(f, limit)
	if strings.HasSuffix(name, ".gz") {
		gz, err := gzip.NewReader(r)
		if err != nil {
			return nil, Tail{File: name, CutAt: -1}, fmt.Errorf("%s: %s: %w", dir, name, err)
		}
		r = io.LimitReader(gz, limit)
	}
	if name == HistoryName {
		h, tail, err = readHistory(r, 0)
	} else {
		h, tail, err = readEDNHistory(r)
	}
	if err != nil {
		return nil, tail, fmt.Errorf("%s: %w", dir, err)
	}
	return h, tail, nil
}

// readEDNHistory reads Maelstrom's history.edn: one op map per line,
// {:index 0, :time 29362309, :type :invoke, :process 0, :f :echo, :value
// "Please echo 54"}, with :process :nemesis for the nemesis.
func readEDNHistory(r io.Reader) (history.History, Tail, error) {
	tail := Tail{File: MaelstromHistoryName, CutAt: -1}
	var h history.History
	br := bufio.NewReaderSize(r, 1<<20)
	var offset int64
	for line := 1; ; line++ {
		b, err := br.ReadSlice('\n')
		for errors.Is(err, bufio.ErrBufferFull) && len(b) < maxHistoryLine {
			// ReadSlice reuses its buffer: keep what was read first.
			b = bytes.Clone(b)
			var more []byte
			more, err = br.ReadSlice('\n')
			b = append(b, more...)
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, tail, fmt.Errorf("%s line %d: %w", tail.File, line, err)
		}
		complete := err == nil
		if len(bytes.TrimSpace(b)) > 0 {
			op, perr := ednOp(b)
			switch {
			case perr == nil:
				h = append(h, op)
				tail.Complete++
			case !complete:
				tail.CutAt = offset // a last line cut short
			default:
				return nil, tail, fmt.Errorf("%s line %d: %w", tail.File, line, perr)
			}
		}
		offset += int64(len(b))
		if !complete {
			return h, tail, nil
		}
	}
}

// ednOp reads one of Maelstrom's op maps.
func ednOp(line []byte) (history.Op, error) {
	v, err := edn.Decode(line)
	if err != nil {
		return history.Op{}, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return history.Op{}, errors.New("not a map")
	}
	return Op(m)
}

// Loaded is a stored run read back: the workbench's own or Maelstrom's.
type Loaded struct {
	Dir     string
	Info    Info
	Results map[string]any // nil if the run has none
	History history.History
	// HistoryErr is why History is missing (LoadFrom only; Load fails).
	HistoryErr error
	// HistoryTail says whether the history ended in a partial op.
	HistoryTail Tail
}

// CutShort says why the run looks cut short (the workbench killed before
// it finished), one reason a line; none for a run that ended normally.
func (l *Loaded) CutShort() []string {
	var why []string
	if l.Info.Format == Workbench && l.Results == nil {
		why = append(why, fmt.Sprintf("no %s: the run did not finish (killed, or still running)", ResultsName))
	}
	if l.HistoryTail.CutShort() {
		why = append(why, l.HistoryTail.String())
	}
	return why
}

// Load reads a whole run (info, results and history) from the directory
// dir, which may be a workbench or a Maelstrom run.
func Load(dir string) (*Loaded, error) {
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
func LoadFrom(root *os.Root, dir string, historyLimit int64) (*Loaded, error) {
	r := &Loaded{Dir: dir}
	var err error
	if r.Info, err = ReadInfo(root, dir); err != nil {
		return nil, err
	}
	if r.Results, err = ReadResults(root, dir); err != nil {
		return nil, err
	}
	r.History, r.HistoryTail, r.HistoryErr = ReadHistory(root, dir, historyLimit)
	return r, nil
}

// OpenJournal opens the run's network journal for ReadJournal; a run
// stored without one gives an error satisfying errors.Is(err,
// fs.ErrNotExist).
func OpenJournal(root *os.Root, dir string) (*os.File, error) {
	f, _, err := Open(root, path.Join(dir, JournalName))
	return f, err
}

// StreamJournal calls fn for every complete event of the journal in the
// run directory dir (see ReadJournal). found is false for a run stored
// without a journal.
func StreamJournal(dir string, fn func(network.Event) error) (tail Tail, found bool, err error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return Tail{}, false, fmt.Errorf("journal: %w", err)
	}
	defer root.Close()
	f, err := OpenJournal(root, ".")
	if errors.Is(err, fs.ErrNotExist) {
		return Tail{File: JournalName, CutAt: -1}, false, nil
	}
	if err != nil {
		return Tail{}, false, fmt.Errorf("%s: %w", dir, err)
	}
	defer f.Close()
	tail, err = ReadJournal(f, fn)
	if err != nil {
		return tail, true, fmt.Errorf("%s: %w", dir, err)
	}
	return tail, true, nil
}

// HasJournal reports whether the run in dir has a network journal.
func HasJournal(dir string) bool {
	st, err := os.Lstat(filepath.Join(dir, JournalName))
	return err == nil && st.Mode().IsRegular()
}
