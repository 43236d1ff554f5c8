// Command ferretdb-runner runs an embedded FerretDB v1 (SQLite backend) behind a
// small wire-protocol relay that serializes write commands.
//
// FerretDB v1 applies update/findAndModify by reading the document, changing it
// in Go and writing it back, with nothing between the read and the write, so two
// concurrent guarded updates of one document can both succeed. MongoDB gives
// single-document atomicity; the relay restores it by letting only one write
// command (insert, update, delete, findAndModify) be in flight at a time across
// all connections. Reads are not serialized.
//
// Usage:
//
//	ferretdb-runner -data DIR [-listen 127.0.0.1:0] [-ready-file PATH] [-exit-on-stdin-eof [-linger]] [-info-file PATH] [-log-level warn]
//
// Once listening it prints exactly one line to stdout:
//
//	READY mongodb://127.0.0.1:PORT/
//
// and logs only to stderr afterwards. It exits on SIGINT/SIGTERM, and when stdin
// reaches EOF if -exit-on-stdin-eof is given (so a dying parent never leaves it
// running); with -linger, only once no client has been connected for a second (other
// processes that joined the server keep it until the last one disconnects). -info-file names
// a file removed at exit if it still names this process (`serverPid`).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb-runner: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	dataDir := flag.String("data", "", "directory holding the SQLite files (created if missing; required)")
	listen := flag.String("listen", "127.0.0.1:0", "public address to listen on (port 0 picks a free port)")
	readyFile := flag.String("ready-file", "", `optional file to write {"uri":...,"pid":...} to once listening`)
	exitOnStdinEOF := flag.Bool("exit-on-stdin-eof", false, "exit when stdin is closed (parent process gone)")
	linger := flag.Bool("linger", false, "with -exit-on-stdin-eof: after stdin closes, keep serving while clients (other processes) are connected; exit once none is")
	infoFile := flag.String("info-file", "", "a JSON file naming this server (serverPid); removed at exit if it still names this process")
	logLevel := flag.String("log-level", "warn", "log level on stderr: debug, info, warn or error")
	postgresURL := flag.String("postgresql-url", "", "store the data in PostgreSQL at this URL instead of SQLite files (benchmarks; -data still holds nothing else)")
	flag.Parse()

	if *dataDir == "" {
		return errors.New("-data is required")
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	logger := slog.New(&demoteHandler{slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})})

	abs, err := filepath.Abs(*dataDir)
	if err != nil {
		return fmt.Errorf("-data: %w", err)
	}
	if strings.ContainsAny(abs, "?#%") {
		return fmt.Errorf("-data: path %q must not contain '?', '#' or '%%' (it becomes an SQLite URI)", abs)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return fmt.Errorf("-data: %w", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// Lingering after its parent is gone, its stdout and stderr are pipes nobody reads: a log
	// line written then must fail quietly (EPIPE), not kill the server under the processes
	// still using it (Go exits on SIGPIPE for fds 1 and 2 unless the signal is ignored).
	if *linger {
		signal.Ignore(syscall.SIGPIPE)
	}
	// Set once the relay serves: lingering counts its client connections.
	var relayRef atomic.Pointer[relay]
	if *exitOnStdinEOF {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			// The parent is gone or done. With -linger, other processes that joined this server
			// keep it: it stops once none has been connected for two checks in a row.
			idle := 0
			for *linger && relayRef.Load() != nil && idle < 2 {
				if relayRef.Load().clientCount() == 0 {
					idle++
				} else {
					idle = 0
				}
				time.Sleep(500 * time.Millisecond)
			}
			logger.Debug("stdin closed, shutting down")
			stop()
		}()
	}
	if *infoFile != "" {
		defer removeInfoIfMine(*infoFile)
	}

	cfg := &ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Handler:   "sqlite",
		SQLiteURL: "file:" + strings.TrimSuffix(abs, "/") + "/",
		Logger:    logger,
	}
	if *postgresURL != "" {
		cfg.Handler, cfg.SQLiteURL, cfg.PostgreSQLURL = "postgresql", "", *postgresURL
	}
	fdb, err := ferretdb.New(cfg)
	if err != nil {
		return fmt.Errorf("starting FerretDB: %w", err)
	}

	fdbCtx, fdbCancel := context.WithCancel(context.Background())
	fdbDone := make(chan struct{})
	go func() {
		defer close(fdbDone)
		if err := fdb.Run(fdbCtx); err != nil {
			logger.Error("FerretDB stopped", "error", err)
		}
	}()

	// MongoDBURI blocks until FerretDB's listener is bound.
	internalAddr, err := hostFromURI(fdb.MongoDBURI())
	if err != nil {
		fdbCancel()
		<-fdbDone
		return err
	}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fdbCancel()
		<-fdbDone
		return fmt.Errorf("-listen: %w", err)
	}

	uri := "mongodb://" + ln.Addr().String() + "/"

	if *readyFile != "" {
		if err := writeReadyFile(*readyFile, uri); err != nil {
			ln.Close()
			fdbCancel()
			<-fdbDone
			return fmt.Errorf("-ready-file: %w", err)
		}
	}

	relay := newRelay(internalAddr, logger)
	relayRef.Store(relay)
	relayDone := make(chan struct{})
	go func() {
		defer close(relayDone)
		relay.serve(ln)
	}()

	fmt.Fprintf(os.Stdout, "READY %s\n", uri)
	logger.Info("listening", "uri", uri, "internal", internalAddr, "data", abs)

	<-ctx.Done()
	logger.Debug("shutting down")

	ln.Close()
	relay.closeAll()
	<-relayDone
	fdbCancel()

	select {
	case <-fdbDone:
	case <-time.After(10 * time.Second):
		logger.Warn("FerretDB did not stop within 10 s; exiting anyway")
	}

	if *readyFile != "" {
		_ = os.Remove(*readyFile)
	}

	return nil
}

// demoteHandler logs FerretDB's dumps of error responses ("Response header: ...",
// "Response message: ...") at debug instead of warn: the client receives those errors
// anyway (a duplicate key, an unsupported endSessions), so at warn they are only noise.
type demoteHandler struct{ slog.Handler }

func (h *demoteHandler) Enabled(ctx context.Context, l slog.Level) bool {
	// Records are re-checked in Handle after a possible demotion.
	return h.Handler.Enabled(ctx, l) || h.Handler.Enabled(ctx, slog.LevelDebug)
}

func (h *demoteHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level > slog.LevelDebug && (strings.HasPrefix(r.Message, "Response header:") || strings.HasPrefix(r.Message, "Response message:")) {
		r.Level = slog.LevelDebug
	}
	if !h.Handler.Enabled(ctx, r.Level) {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

func (h *demoteHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &demoteHandler{h.Handler.WithAttrs(attrs)}
}

func (h *demoteHandler) WithGroup(name string) slog.Handler {
	return &demoteHandler{h.Handler.WithGroup(name)}
}

// hostFromURI extracts host:port from "mongodb://host:port/".
func hostFromURI(uri string) (string, error) {
	rest, ok := strings.CutPrefix(uri, "mongodb://")
	if !ok {
		return "", fmt.Errorf("unexpected FerretDB URI %q", uri)
	}
	host, _, _ := strings.Cut(rest, "/")
	if host == "" {
		return "", fmt.Errorf("unexpected FerretDB URI %q", uri)
	}
	return host, nil
}

// removeInfoIfMine removes the server info file if it still names this process as the server
// (a later server may have replaced it).
func removeInfoIfMine(path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	var info struct {
		ServerPID int `json:"serverPid"`
	}
	if json.Unmarshal(b, &info) == nil && info.ServerPID == os.Getpid() {
		_ = os.Remove(path)
	}
}

// writeReadyFile writes {"uri":...,"pid":...} atomically (temp file + rename).
func writeReadyFile(path, uri string) error {
	b, err := json.Marshal(struct {
		URI string `json:"uri"`
		PID int    `json:"pid"`
	}{uri, os.Getpid()})
	if err != nil {
		return err
	}
	tmp := fmt.Sprintf("%s.%d.tmp", path, os.Getpid())
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
