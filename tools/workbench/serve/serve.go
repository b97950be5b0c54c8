// Package serve is the workbench's `serve` command: a small web server
// over the store directory so that runs can be browsed — a page listing
// every run, newest first, with its verdict, and under it each run's
// report, plots, results and logs; runs stored by Maelstrom itself are
// listed too. It serves nothing outside the store: every path is resolved
// (symlinks included) and must land inside it, every read (files, the
// runs page, listings) goes through one os.Root, only regular files are
// opened (never blocking on a FIFO), files read whole are size-capped, and
// connections have read, write and idle timeouts.
package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/glomers/glomers/tools/workbench/report"
	"github.com/glomers/glomers/tools/workbench/store"
)

// Config says where to listen and what to serve.
type Config struct {
	// Host defaults to 127.0.0.1, not Maelstrom's 0.0.0.0: the store holds
	// node logs and histories, the server has no authentication, and a
	// laptop on café Wi-Fi should not publish them. Pass 0.0.0.0 to share
	// (e.g. from inside a container).
	Host  string
	Port  int
	Store string
	// IdleTimeout closes keep-alive connections that sit unused (default
	// 30 s); ReadTimeout and WriteTimeout bound one request (defaults 30 s
	// and 10 min, enough for a large journal on a slow link).
	IdleTimeout, ReadTimeout, WriteTimeout time.Duration
}

// Server serves one store directory.
type Server struct {
	root string   // absolute, symlinks resolved
	fsys *os.Root // opens only what lies inside root
	log  *slog.Logger
}

// New opens the store directory for serving.
func New(store string, log *slog.Logger) (*Server, error) {
	if log == nil {
		log = slog.Default()
	}
	abs, err := filepath.Abs(store)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", store, err)
	}
	root, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", store, err)
	}
	st, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", store, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("store %s is not a directory", store)
	}
	fsys, err := os.OpenRoot(root)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", store, err)
	}
	return &Server{root: root, fsys: fsys, log: log}, nil
}

// Close releases the store directory.
func (s *Server) Close() error { return s.fsys.Close() }

// ListenAndServe serves the store until ctx is cancelled. ready, if not
// nil, is called with the address once the server listens.
func ListenAndServe(ctx context.Context, cfg Config, log *slog.Logger, ready func(addr string)) error {
	if log == nil {
		log = slog.Default()
	}
	if cfg.Host == "" {
		cfg.Host = "127.0.0.1"
	}
	s, err := New(cfg.Store, log)
	if err != nil {
		return err
	}
	defer s.Close()
	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)))
	if err != nil {
		return fmt.Errorf("listen on %s:%d: %w", cfg.Host, cfg.Port, err)
	}
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       orDefault(cfg.ReadTimeout, 30*time.Second),
		WriteTimeout:      orDefault(cfg.WriteTimeout, 10*time.Minute),
		IdleTimeout:       orDefault(cfg.IdleTimeout, 30*time.Second),
		MaxHeaderBytes:    64 << 10,
	}
	if ready != nil {
		ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		return srv.Shutdown(shutdown)
	}
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// errOutside marks a path that resolves outside the store.
var errOutside = errors.New("outside the store")

// resolve maps a URL path to a path relative to the store root with every
// symlink resolved, refusing anything that would leave the store.
func (s *Server) resolve(urlPath string) (string, error) {
	if strings.ContainsRune(urlPath, 0) {
		return "", errOutside
	}
	// r.URL.Path is already percent-decoded, so %2e%2e arrives here as "..".
	// Refuse it outright rather than cleaning it into something else.
	for _, seg := range strings.Split(urlPath, "/") {
		if seg == ".." {
			return "", errOutside
		}
	}
	clean := path.Clean("/" + urlPath)
	full := filepath.Join(s.root, filepath.FromSlash(clean))
	resolved, err := filepath.EvalSymlinks(full)
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(s.root, resolved)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return "", errOutside
	}
	return rel, nil
}

// resolveFor is resolve for a request: on failure it answers the request
// (403 outside the store, 404 missing, 400 otherwise) and returns false.
func (s *Server) resolveFor(w http.ResponseWriter, r *http.Request, urlPath string) (string, bool) {
	rel, err := s.resolve(urlPath)
	switch {
	case errors.Is(err, errOutside):
		s.log.Warn("refused a path outside the store", "path", r.URL.Path, "remote", r.RemoteAddr)
		http.Error(w, "forbidden: outside the store", http.StatusForbidden)
		return "", false
	case errors.Is(err, fs.ErrNotExist):
		http.NotFound(w, r)
		return "", false
	case err != nil:
		http.Error(w, "bad path", http.StatusBadRequest)
		return "", false
	}
	return rel, true
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	// Reports are static: no script may run, whatever a node wrote into
	// a log or a message body.
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'none'")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	switch r.URL.Path {
	case "/compare", "/compare.svg":
		// Run directories are store/<workload>/<time>, so these names
		// cannot hide a stored file.
		s.serveCompare(w, r, r.URL.Path == "/compare.svg")
		return
	}
	if path.Base(r.URL.Path) == store.MessagesName && r.URL.Query().Has("from") {
		// Drawn from the run's journal, so a run without a stored
		// diagram (one killed before its report) has one too.
		if dir, ok := s.resolveFor(w, r, path.Dir(r.URL.Path)); ok {
			s.serveMessagesFrom(w, r, dir)
		}
		return
	}
	rel, ok := s.resolveFor(w, r, r.URL.Path)
	if !ok {
		return
	}
	// O_NONBLOCK: opening a FIFO for reading would otherwise wait for a
	// writer forever, holding an OS thread per request.
	f, err := s.fsys.OpenFile(rel, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		// os.Root refuses anything that escapes, even if the tree
		// changed since resolve looked at it.
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		http.Error(w, "cannot stat", http.StatusInternalServerError)
		return
	}
	if st.IsDir() {
		if !strings.HasSuffix(r.URL.Path, "/") {
			// Relative links in a run's index.html need the slash.
			target := r.URL.Path + "/"
			if r.URL.RawQuery != "" {
				target += "?" + r.URL.RawQuery
			}
			http.Redirect(w, r, target, http.StatusMovedPermanently)
			return
		}
		s.serveDir(w, r, rel)
		return
	}
	if !st.Mode().IsRegular() {
		http.NotFound(w, r)
		return
	}
	if filepath.Base(rel) == store.LinearizabilityName {
		// Porcupine's view is drawn by its own inline script. It runs
		// sandboxed in an opaque origin, so it cannot read the rest of
		// the store, and may fetch nothing.
		w.Header().Set("Content-Security-Policy", "sandbox allow-scripts; default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:")
	}
	if ct := contentType(rel); ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	http.ServeContent(w, r, st.Name(), st.ModTime(), f)
}

// serveMessagesFrom redraws a run's Lamport diagram from its stored
// journal for the window starting at ?from=SECONDS.
func (s *Server) serveMessagesFrom(w http.ResponseWriter, r *http.Request, dir string) {
	from, err := strconv.ParseFloat(r.URL.Query().Get("from"), 64)
	if err != nil || from < 0 || math.IsNaN(from) || math.IsInf(from, 0) {
		http.Error(w, "from must be a number of seconds since the test started", http.StatusBadRequest)
		return
	}
	f, err := store.OpenJournal(s.fsys, dir)
	if err != nil {
		http.Error(w, "this run has no network journal to draw from", http.StatusNotFound)
		return
	}
	defer f.Close()
	svg, err := report.MessagesFrom(io.LimitReader(f, maxJournalBytes), int64(from*1e9))
	if err != nil {
		http.Error(w, "cannot read the journal: "+err.Error(), http.StatusUnprocessableEntity)
		return
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	if r.Method != http.MethodHead {
		_, _ = w.Write(svg)
	}
}

// maxJournalBytes bounds how much of a journal one diagram request reads.
const maxJournalBytes = 2 << 30

// contentType names the types Go's table lacks or gets unhelpfully: the
// store's text files should display in the browser, not download.
func contentType(name string) string {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".edn", ".txt", ".log", ".clj", ".dot":
		return "text/plain; charset=utf-8"
	case ".json":
		return "application/json; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".html":
		return "text/html; charset=utf-8"
	}
	return ""
}

// serveDir shows the runs page at the top of the store, a run's report
// where it has one (unless ?files asks for the listing), and a plain
// listing elsewhere.
func (s *Server) serveDir(w http.ResponseWriter, r *http.Request, rel string) {
	if rel == "." {
		list, err := Runs(s.fsys)
		if err != nil {
			http.Error(w, "cannot list runs", http.StatusInternalServerError)
			s.log.Error("list runs", "err", err)
			return
		}
		writePage(w, r, runsTemplate, runsPage{Runs: list})
		return
	}
	if _, files := r.URL.Query()["files"]; !files {
		if f, st, err := store.Open(s.fsys, filepath.Join(rel, store.IndexName)); err == nil {
			defer f.Close()
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			http.ServeContent(w, r, store.IndexName, st.ModTime(), f)
			return
		}
	}
	entries, err := listDir(s.fsys, rel)
	if err != nil {
		http.Error(w, "cannot list directory", http.StatusInternalServerError)
		return
	}
	writePage(w, r, dirTemplate, dirPage{Path: "/" + filepath.ToSlash(rel) + "/", Entries: entries})
}
