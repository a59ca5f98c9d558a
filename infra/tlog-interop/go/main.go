// tlogcheck: checks Sporbar's checkpoints and proofs with the Go checksum database's own code
// (golang.org/x/mod/sumdb/note and sumdb/tlog), an implementation nobody on the Sporbar team wrote.
//
// It reads one JSON request on stdin and writes one JSON answer on stdout; the exit code is 0 when
// every check passed, 1 when one failed, 2 when the request could not be read.
package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type inclusion struct {
	Index int64    `json:"index"`
	Leaf  string   `json:"leaf"`     // base64 of the leaf's bytes (the record); or
	Hash  string   `json:"leafHash"` // base64 of its RFC 6962 leaf hash
	Proof []string `json:"proof"`
}

type consistency struct {
	OldSize int64    `json:"oldSize"`
	OldRoot string   `json:"oldRoot"`
	Proof   []string `json:"proof"`
}

type request struct {
	VerifierKey string       `json:"verifierKey"`
	Checkpoint  string       `json:"checkpoint"`
	Inclusion   []inclusion  `json:"inclusion"`
	Consistency *consistency `json:"consistency"`

	Tiles *tilesRequest `json:"tiles"` // tiles mode (tiles.go): read the log over C2SP tlog-tiles
	Proof *proofReq     `json:"proof"` // a C2SP tlog-proof to check instead (proof.go)
}

type answer struct {
	OK          bool     `json:"ok"`
	Origin      string   `json:"origin,omitempty"`
	Size        int64    `json:"size"`
	Root        string   `json:"root,omitempty"`
	Extensions  []string `json:"extensions,omitempty"`
	Signers     []string `json:"signers,omitempty"`
	Inclusion   []string `json:"inclusion,omitempty"` // "ok" or the error, per request item
	Consistency string   `json:"consistency,omitempty"`
	Error       string   `json:"error,omitempty"`

	Tiles *tilesAnswer `json:"tiles,omitempty"`
}

func hashOf(b64 string) (tlog.Hash, error) {
	var h tlog.Hash
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return h, err
	}
	if len(b) != tlog.HashSize {
		return h, fmt.Errorf("a hash is %d bytes, got %d", tlog.HashSize, len(b))
	}
	copy(h[:], b)
	return h, nil
}

func hashesOf(list []string) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(list))
	for i, s := range list {
		h, err := hashOf(s)
		if err != nil {
			return nil, fmt.Errorf("proof[%d]: %v", i, err)
		}
		out[i] = h
	}
	return out, nil
}

// parseCheckpoint reads a C2SP tlog-checkpoint body: origin, decimal size, base64 root, then
// optional extension lines.
func parseCheckpoint(text string) (origin string, size int64, root tlog.Hash, ext []string, err error) {
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 3 {
		return "", 0, root, nil, fmt.Errorf("a checkpoint body has at least 3 lines, got %d", len(lines))
	}
	origin = lines[0]
	if origin == "" {
		return "", 0, root, nil, fmt.Errorf("empty origin")
	}
	size, err = strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		return "", 0, root, nil, fmt.Errorf("bad tree size %q", lines[1])
	}
	root, err = hashOf(lines[2])
	if err != nil {
		return "", 0, root, nil, fmt.Errorf("bad root hash: %v", err)
	}
	return origin, size, root, lines[3:], nil
}

func run(req request) answer {
	if req.Tiles != nil {
		return runTiles(req)
	}
	if req.Proof != nil {
		return runProof(req)
	}
	verifier, err := note.NewVerifier(req.VerifierKey)
	if err != nil {
		return answer{Error: "verifier key: " + err.Error()}
	}
	n, err := note.Open([]byte(req.Checkpoint), note.VerifierList(verifier))
	if err != nil {
		return answer{Error: "note.Open: " + err.Error()}
	}
	origin, size, root, ext, err := parseCheckpoint(n.Text)
	if err != nil {
		return answer{Error: "checkpoint: " + err.Error()}
	}
	a := answer{OK: true, Origin: origin, Size: size, Root: base64.StdEncoding.EncodeToString(root[:]), Extensions: ext}
	for _, s := range n.Sigs {
		a.Signers = append(a.Signers, fmt.Sprintf("%s+%08x", s.Name, s.Hash))
	}
	for i, inc := range req.Inclusion {
		var leaf tlog.Hash
		if inc.Leaf != "" {
			data, err := base64.StdEncoding.DecodeString(inc.Leaf)
			if err != nil {
				a.Inclusion = append(a.Inclusion, fmt.Sprintf("inclusion[%d]: leaf: %v", i, err))
				a.OK = false
				continue
			}
			leaf = tlog.RecordHash(data)
			if inc.Hash != "" {
				if h, err := hashOf(inc.Hash); err != nil || h != leaf {
					a.Inclusion = append(a.Inclusion, fmt.Sprintf("inclusion[%d]: the leaf hash is not the hash of the leaf", i))
					a.OK = false
					continue
				}
			}
		} else if leaf, err = hashOf(inc.Hash); err != nil {
			a.Inclusion = append(a.Inclusion, fmt.Sprintf("inclusion[%d]: leaf hash: %v", i, err))
			a.OK = false
			continue
		}
		proof, err := hashesOf(inc.Proof)
		if err == nil {
			err = tlog.CheckRecord(proof, size, root, inc.Index, leaf)
		}
		if err != nil {
			a.Inclusion = append(a.Inclusion, fmt.Sprintf("inclusion[%d]: %v", i, err))
			a.OK = false
		} else {
			a.Inclusion = append(a.Inclusion, "ok")
		}
	}
	if c := req.Consistency; c != nil {
		old, err := hashOf(c.OldRoot)
		var proof []tlog.Hash
		if err == nil {
			proof, err = hashesOf(c.Proof)
		}
		if err == nil {
			err = tlog.CheckTree(proof, size, root, c.OldSize, old)
		}
		if err != nil {
			a.Consistency = err.Error()
			a.OK = false
		} else {
			a.Consistency = "ok"
		}
	}
	return a
}

func main() {
	var req request
	dec := json.NewDecoder(os.Stdin)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		json.NewEncoder(os.Stdout).Encode(answer{Error: "request: " + err.Error()})
		os.Exit(2)
	}
	a := run(req)
	json.NewEncoder(os.Stdout).Encode(a)
	if !a.OK {
		os.Exit(1)
	}
}
