package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"
)

const (
	opMsg = 2013

	// flagBits of OP_MSG.
	flagChecksumPresent = 1 << 0
	flagMoreToCome      = 1 << 1

	headerLen = 16
	// MongoDB's maxMessageSizeBytes is 48,000,000; leave headroom, refuse anything absurd.
	maxMessageLen = 64 << 20
)

// writeCommands are the commands that are serialized process-wide.
var writeCommands = []string{"insert", "update", "delete", "findAndModify"}

// relay accepts client connections and pipes each one to FerretDB, holding a
// process-wide lock around every acknowledged write command.
type relay struct {
	upstream string
	log      *slog.Logger

	// writeSem (capacity 1) is the process-wide write lock. A channel rather than
	// a sync.Mutex because it is released by another goroutine (the one reading
	// the reply) and acquisition must be abandonable when a connection drops.
	writeSem chan struct{}

	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	clients int // client connections open now (conns holds both sides)
	closed  bool
	wg      sync.WaitGroup
}

// clientCount is the number of client connections open now.
func (r *relay) clientCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.clients
}

func newRelay(upstream string, log *slog.Logger) *relay {
	return &relay{
		upstream: upstream,
		log:      log,
		writeSem: make(chan struct{}, 1),
		conns:    make(map[net.Conn]struct{}),
	}
}

// serve accepts connections until ln is closed, then waits for all sessions to end.
func (r *relay) serve(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				break
			}
			r.log.Warn("accept failed", "error", err)
			time.Sleep(50 * time.Millisecond)
			continue
		}
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			r.handle(c)
		}()
	}
	r.wg.Wait()
}

// track registers c so closeAll can close it; it returns false (and closes c) after closeAll.
func (r *relay) track(c net.Conn) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		c.Close()
		return false
	}
	r.conns[c] = struct{}{}
	return true
}

func (r *relay) untrack(c net.Conn) {
	r.mu.Lock()
	delete(r.conns, c)
	r.mu.Unlock()
	c.Close()
}

// closeAll closes every open connection (both sides) and refuses new ones.
func (r *relay) closeAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	for c := range r.conns {
		c.Close()
	}
}

// session is the lock state of one client connection.
type session struct {
	mu        sync.Mutex
	held      bool  // this connection holds writeSem
	requestID int32 // the write request whose reply releases it
}

func (r *relay) handle(client net.Conn) {
	if !r.track(client) {
		return
	}
	r.mu.Lock()
	r.clients++
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.clients--
		r.mu.Unlock()
	}()
	defer r.untrack(client)

	server, err := net.DialTimeout("tcp", r.upstream, 10*time.Second)
	if err != nil {
		r.log.Error("cannot reach FerretDB", "error", err)
		return
	}
	if !r.track(server) {
		return
	}
	defer r.untrack(server)

	s := &session{}
	quit := make(chan struct{})
	var once sync.Once
	stop := func() {
		once.Do(func() {
			close(quit)
			client.Close()
			server.Close()
		})
	}

	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		defer stop()
		r.clientToServer(s, client, server, quit)
	}()
	go func() {
		defer wg.Done()
		defer stop()
		r.serverToClient(s, server, client)
	}()
	wg.Wait()

	// The connection dropped; give back the lock if a write was still in flight.
	s.mu.Lock()
	if s.held {
		s.held = false
		<-r.writeSem
	}
	s.mu.Unlock()
}

func (r *relay) clientToServer(s *session, client, server net.Conn, quit <-chan struct{}) {
	br := bufio.NewReaderSize(client, 64<<10)
	for {
		msg, err := readMessage(br)
		if err != nil {
			r.logReadErr("client", err)
			return
		}

		if isSerializedWrite(msg) {
			select {
			case r.writeSem <- struct{}{}:
			case <-quit:
				return
			}
			s.mu.Lock()
			s.held = true
			s.requestID = int32(binary.LittleEndian.Uint32(msg[4:8]))
			s.mu.Unlock()
		}

		if _, err := server.Write(msg); err != nil {
			return
		}
	}
}

func (r *relay) serverToClient(s *session, server, client net.Conn) {
	br := bufio.NewReaderSize(server, 64<<10)
	for {
		msg, err := readMessage(br)
		if err != nil {
			r.logReadErr("FerretDB", err)
			return
		}

		responseTo := int32(binary.LittleEndian.Uint32(msg[8:12]))
		s.mu.Lock()
		if s.held && s.requestID == responseTo {
			s.held = false
			<-r.writeSem
		}
		s.mu.Unlock()

		if _, err := client.Write(msg); err != nil {
			return
		}
	}
}

func (r *relay) logReadErr(side string, err error) {
	if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || errors.Is(err, io.ErrUnexpectedEOF) {
		return
	}
	var ne net.Error
	if errors.As(err, &ne) || strings.Contains(err.Error(), "connection reset") {
		r.log.Debug("connection ended", "side", side, "error", err)
		return
	}
	r.log.Warn("dropping connection", "side", side, "error", err)
}

// readMessage reads one whole wire message (header included).
func readMessage(br *bufio.Reader) ([]byte, error) {
	var hdr [headerLen]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return nil, err
	}
	n := int64(int32(binary.LittleEndian.Uint32(hdr[0:4])))
	if n < headerLen || n > maxMessageLen {
		return nil, fmt.Errorf("invalid messageLength %d", n)
	}
	msg := make([]byte, n)
	copy(msg, hdr[:])
	if _, err := io.ReadFull(br, msg[headerLen:]); err != nil {
		return nil, err
	}
	return msg, nil
}

// isSerializedWrite reports whether msg is an acknowledged OP_MSG whose command
// (the first key of the kind-0 body document) is a write command.
func isSerializedWrite(msg []byte) bool {
	if len(msg) < headerLen+4 || int32(binary.LittleEndian.Uint32(msg[12:16])) != opMsg {
		return false
	}
	flags := binary.LittleEndian.Uint32(msg[16:20])
	if flags&flagMoreToCome != 0 {
		return false
	}
	end := len(msg)
	if flags&flagChecksumPresent != 0 {
		end -= 4
	}
	cmd, ok := opMsgCommand(msg[headerLen+4 : end])
	if !ok {
		return false
	}
	for _, w := range writeCommands {
		if strings.EqualFold(cmd, w) {
			return true
		}
	}
	return false
}

// opMsgCommand returns the first key of the body (kind 0) section.
func opMsgCommand(sections []byte) (string, bool) {
	for i := 0; i < len(sections); {
		kind := sections[i]
		i++
		if i+4 > len(sections) {
			return "", false
		}
		size := int(int32(binary.LittleEndian.Uint32(sections[i : i+4])))
		if size < 5 || i+size > len(sections) {
			return "", false
		}
		switch kind {
		case 0:
			// BSON document: int32 length, then elements (type byte, cstring key, value), then 0.
			doc := sections[i : i+size]
			if doc[4] == 0 { // empty document
				return "", false
			}
			key := doc[5:]
			nul := -1
			for j, b := range key {
				if b == 0 {
					nul = j
					break
				}
			}
			if nul < 0 {
				return "", false
			}
			return string(key[:nul]), true
		case 1:
			// Document sequence: int32 size (includes itself), cstring identifier, documents.
			i += size
		default:
			return "", false
		}
	}
	return "", false
}
