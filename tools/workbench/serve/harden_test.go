package serve

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/glomers/glomers/tools/workbench/store/storetest"
)

// TestFIFOAndOutsideSymlinksAreNotRead: a FIFO anywhere in the store is
// refused at once (it used to block the request forever), and symlinks
// leading out of the store are neither followed by the runs page nor
// listed.
func TestFIFOAndOutsideSymlinksAreNotRead(t *testing.T) {
	root, store := newStore(t)
	run := filepath.Join(store, "echo", "20260305T112642.178Z")
	if err := syscall.Mkfifo(filepath.Join(run, "pipe.txt"), 0o644); err != nil {
		t.Skip("no FIFOs:", err)
	}
	// A run whose results.json is a FIFO, and one whose results.json is a
	// symlink to a file outside with values that must not show.
	fifoRun := filepath.Join(store, "kafka", "20260308T090000.000Z")
	os.MkdirAll(fifoRun, 0o755)
	syscall.Mkfifo(filepath.Join(fifoRun, "results.json"), 0o644)
	os.WriteFile(filepath.Join(root, "outside.json"), []byte(`{"valid?": true, "stats": {"count": 987654}}`), 0o644)
	linkRun := filepath.Join(store, "kafka", "20260309T090000.000Z")
	os.MkdirAll(linkRun, 0o755)
	os.Symlink(filepath.Join(root, "outside.json"), filepath.Join(linkRun, "results.json"))
	os.Symlink(filepath.Join(root, "outside.json"), filepath.Join(run, "outside.json"))

	s, err := New(store, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	done := make(chan struct{})
	var page, pipe, listing string
	var pipeCode int
	go func() {
		defer close(done)
		page = get(t, s, "/").Body.String()
		rec := get(t, s, "/echo/20260305T112642.178Z/pipe.txt")
		pipe, pipeCode = rec.Body.String(), rec.Code
		listing = get(t, s, "/echo/20260305T112642.178Z/?files").Body.String()
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("a request blocked on a FIFO")
	}
	if pipeCode != http.StatusNotFound {
		t.Errorf("GET a FIFO = %d %q, want 404", pipeCode, pipe)
	}
	if strings.Contains(page, "987654") {
		t.Error("the runs page showed values from a results.json symlink out of the store")
	}
	if !strings.Contains(page, "20260308T090000.000Z") {
		t.Error("the run with a FIFO for results is missing from the runs page")
	}
	if strings.Contains(listing, "outside.json") || strings.Contains(listing, "pipe.txt") || strings.Contains(listing, "abs-leak.txt") {
		t.Errorf("the listing shows a FIFO or a link out of the store:\n%s", listing)
	}
	if !strings.Contains(listing, "history.txt") {
		t.Errorf("the listing lost a regular file:\n%s", listing)
	}
}

// TestIdleConnectionsAreClosed: a keep-alive connection left idle is
// closed by the server after IdleTimeout (they used to stay open).
func TestIdleConnectionsAreClosed(t *testing.T) {
	_, store := newStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrc := make(chan string, 1)
	go ListenAndServe(ctx, Config{Store: store, IdleTimeout: 200 * time.Millisecond}, nil, func(a string) { addrc <- a })
	addr := <-addrc
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /echo/20260305T112642.178Z/history.txt HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	if _, err := br.ReadByte(); err == nil {
		t.Fatal("server sent more bytes on an idle connection")
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("idle keep-alive connection still open after 5 s")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("closed after %v", d)
	}
}

// TestServesMaelstromRuns: a store written by Maelstrom itself lists with
// verdicts and figures read from results.edn and the command line from
// jepsen.log.
func TestServesMaelstromRuns(t *testing.T) {
	s, err := New(storetest.Copy(t, "../store/testdata/maelstrom-store"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	list, err := Runs(s.fsys)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 {
		t.Fatalf("%d runs, want 2: %+v", len(list), list)
	}
	b, e := list[0], list[1] // newest first
	if b.Workload != "broadcast" || b.Verdict != "valid" || b.Ops != "204" || b.MsgsPerOp != "1.833" || b.Format != "maelstrom" ||
		!strings.Contains(b.Command, "-w broadcast") {
		t.Errorf("broadcast run: %+v", b)
	}
	if e.Workload != "echo" || e.Verdict != "valid" || e.Ops != "49" || e.Availability != "1" {
		t.Errorf("echo run: %+v", e)
	}
	page := get(t, s, "/").Body.String()
	if !strings.Contains(page, "(Maelstrom)") || !strings.Contains(page, "lein run test -w echo") {
		t.Errorf("runs page:\n%s", page)
	}
}

func TestComparePage(t *testing.T) {
	s, err := New(storetest.Copy(t, "../store/testdata/maelstrom-store"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	q := "?a=broadcast/20261202T032146.864%2B0000&b=echo/20261202T032124.135%2B0000"
	page := get(t, s, "/compare"+q)
	if page.Code != 200 {
		t.Fatalf("GET /compare = %d %s", page.Code, page.Body.String())
	}
	body := page.Body.String()
	for _, want := range []string{"msgs/op (servers)", "1.8333", "2.0408", "-1.891 (-48%)", `<tr class="better"><td>msgs/op (all)`,
		"lein run test -w broadcast", "dissemination p95 (ms)", `src="compare.svg?a=broadcast`} {
		if !strings.Contains(body, want) {
			t.Errorf("compare page lacks %q", want)
		}
	}
	plot := get(t, s, "/compare.svg"+q)
	if plot.Code != 200 || plot.Header().Get("Content-Type") != "image/svg+xml" || strings.Count(plot.Body.String(), "<polyline") != 5 {
		t.Errorf("compare.svg = %d %s, %d series (want 5: 4 of A, 1 of B)", plot.Code, plot.Header().Get("Content-Type"), strings.Count(plot.Body.String(), "<polyline"))
	}
	for _, bad := range []string{"/compare", "/compare?a=echo/20261202T032124.135%2B0000", "/compare?a=../secret&b=echo",
		"/compare?a=nope/x&b=echo/20261202T032124.135%2B0000", "/compare?a=echo&b=echo/20261202T032124.135%2B0000/results.edn"} {
		if rec := get(t, s, bad); rec.Code == 200 {
			t.Errorf("GET %s = 200", bad)
		}
	}
	if runs := get(t, s, "/").Body.String(); !strings.Contains(runs, `<form action="compare"`) || !strings.Contains(runs, `name="a" value="echo/20261202T032124.135&#43;0000"`) {
		t.Errorf("runs page has no compare form:\n%s", runs)
	}
}

func TestMessagesWindowAndPorcupineView(t *testing.T) {
	_, store := newStore(t)
	run := filepath.Join(store, "echo", "20260305T112642.178Z")
	var j strings.Builder
	j.WriteString("[")
	for i := 0; i < 500; i++ {
		if i > 0 {
			j.WriteString(",")
		}
		fmt.Fprintf(&j, `{"kind":"send","time":%d,"msg":{"id":%d,"src":"c1","dest":"n0","body":{"type":"echo"}}}`, i*1000000, i)
	}
	j.WriteString("]")
	os.WriteFile(filepath.Join(run, "net-journal.json"), []byte(j.String()), 0o644)
	os.WriteFile(filepath.Join(run, "messages.svg"), []byte("<svg>static</svg>"), 0o644)
	os.WriteFile(filepath.Join(run, "linearizability.html"), []byte("<script>1</script>"), 0o644)
	s, err := New(store, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rec := get(t, s, "/echo/20260305T112642.178Z/messages.svg?from=0.25")
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "Messages: 250 of 500, from 0.2500 s") {
		t.Errorf("windowed diagram: %d %.300s", rec.Code, rec.Body.String())
	}
	if rec := get(t, s, "/echo/20260305T112642.178Z/messages.svg"); rec.Body.String() != "<svg>static</svg>" {
		t.Error("without ?from the stored diagram should be served")
	}
	for _, bad := range []string{"?from=-1", "?from=NaN", "?from=soon"} {
		if rec := get(t, s, "/echo/20260305T112642.178Z/messages.svg"+bad); rec.Code != http.StatusBadRequest {
			t.Errorf("%s: %d", bad, rec.Code)
		}
	}
	if rec := get(t, s, "/broadcast/20260306T090000.000Z/messages.svg?from=1"); rec.Code != http.StatusNotFound {
		t.Errorf("no journal: %d", rec.Code)
	}
	csp := get(t, s, "/echo/20260305T112642.178Z/linearizability.html").Header().Get("Content-Security-Policy")
	if !strings.HasPrefix(csp, "sandbox allow-scripts;") || strings.Contains(csp, "allow-same-origin") {
		t.Errorf("porcupine's page CSP: %q", csp)
	}
	if csp := get(t, s, "/echo/20260305T112642.178Z/history.txt").Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'none'") {
		t.Errorf("other files' CSP: %q", csp)
	}
}

// A run killed mid-write is browsed like any other: the diagram is drawn
// from every complete journal event, and the compare page loads it.
func TestKilledRunIsServed(t *testing.T) {
	_, store := newStore(t)
	run := filepath.Join(store, "echo", "20260308T090000.000Z")
	os.MkdirAll(run, 0o755)
	var j, h strings.Builder
	for i := 0; i < 100; i++ {
		fmt.Fprintf(&j, `{"kind":"send","time":%d,"msg":{"id":%d,"src":"c1","dest":"n0","body":{"type":"echo"}}}`+"\n", i*1000000, i)
		fmt.Fprintf(&h, `{"index":%d,"type":"invoke","f":"echo","process":0,"time":%d,"value":"x"}`+"\n", i, i*1000000)
	}
	os.WriteFile(filepath.Join(run, "net-journal.json"), []byte(j.String()+`{"kind":"send","time":1000000`), 0o644)
	os.WriteFile(filepath.Join(run, "history.json"), []byte(h.String()+`{"index":100,"ty`), 0o644)
	s, err := New(store, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rec := get(t, s, "/echo/20260308T090000.000Z/messages.svg?from=0")
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "Messages: all 100") {
		t.Errorf("diagram of a cut journal: %d %.300s", rec.Code, rec.Body.String())
	}
	page := get(t, s, "/compare?a=echo/20260308T090000.000Z&b=echo/20260305T112642.178Z")
	if page.Code != 200 {
		t.Errorf("compare with a killed run: %d %.300s", page.Code, page.Body.String())
	}
	if runs := get(t, s, "/").Body.String(); !strings.Contains(runs, "incomplete") {
		t.Error("the runs page does not mark the killed run incomplete")
	}
}
