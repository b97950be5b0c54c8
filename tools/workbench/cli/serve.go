package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/glomers/glomers/tools/workbench/serve"
)

func init() {
	Register(Command{Name: "serve", Summary: "browse stored runs in a web browser", Run: runServe})
}

var serveFlags = []flagSpec{
	// Maelstrom binds 0.0.0.0; we bind loopback unless asked, because the
	// store (node logs, histories) would otherwise be readable by anyone on
	// the network, and the server has no authentication.
	{long: "host", short: "b", value: "HOST", def: "127.0.0.1", help: "address to listen on (0.0.0.0 to share with the network)"},
	{long: "port", short: "p", value: "PORT", def: "8080", help: "port to listen on"},
	{long: "store", value: "DIR", def: "store", help: "the store to serve"},
	{long: "help", short: "h", help: "show this help"},
}

func runServe(args []string, stdout, stderr io.Writer) int {
	p, err := parseFlags(serveFlags, args)
	if err != nil {
		return badArgs(stderr, "serve: %v", err)
	}
	if p.last("help") == "true" {
		fmt.Fprintln(stdout, "usage: workbench serve [--host HOST] [--port PORT] [--store DIR]")
		printFlags(stdout, serveFlags)
		return ExitValid
	}
	if len(p.positional) > 0 {
		return badArgs(stderr, "serve: unexpected argument %q", p.positional[0])
	}
	cfg := serve.Config{Host: "127.0.0.1", Port: 8080, Store: StoreRoot}
	if p.has("host") {
		cfg.Host = p.last("host")
	}
	if p.has("port") {
		port, err := strconv.Atoi(p.last("port"))
		if err != nil || port < 0 || port > 65535 {
			return badArgs(stderr, "serve: --port %q: must be a number from 0 to 65535", p.last("port"))
		}
		cfg.Port = port
	}
	if p.has("store") {
		cfg.Store = p.last("store")
	}
	if st, err := os.Stat(cfg.Store); err != nil || !st.IsDir() {
		return badArgs(stderr, "serve: no store directory %s (run `workbench test` here first, or pass --store)", cfg.Store)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(stderr, nil))
	err = serve.ListenAndServe(ctx, cfg, log, func(addr string) {
		fmt.Fprintf(stdout, "Serving %s at http://%s/ (Ctrl-C to stop)\n", cfg.Store, addr)
	})
	if err != nil {
		fmt.Fprintf(stderr, "workbench: serve: %v\n", err)
		return ExitCrash
	}
	return ExitValid
}
