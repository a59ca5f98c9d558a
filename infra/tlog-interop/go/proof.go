// The proof mode of tlogcheck: a C2SP tlog-proof (https://c2sp.org/tlog-proof) checked with the Go
// checksum database's note.Open and tlog.CheckRecord, and a cosignature/v1 note.Verifier written
// here from the C2SP tlog-cosignature text (signature type 0x04).
package main

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// proofReq: the tlog-proof text, the log's verifier key (request.VerifierKey), the witnesses'
// cosignature/v1 verifier keys and how many of them must have cosigned.
type proofReq struct {
	Text      string   `json:"text"`
	Witnesses []string `json:"witnesses"`
	Quorum    int      `json:"quorum"`
}

const sigTypeCosignatureV1 = 0x04

// cosignatureV1 verifies "— <name> base64(keyID ‖ timestamp u64 BE ‖ Ed25519 signature)" lines, the
// signed message being "cosignature/v1\ntime <timestamp>\n" followed by the note's text.
type cosignatureV1 struct {
	name string
	hash uint32
	key  ed25519.PublicKey
}

func (v *cosignatureV1) Name() string    { return v.name }
func (v *cosignatureV1) KeyHash() uint32 { return v.hash }
func (v *cosignatureV1) Verify(msg, sig []byte) bool {
	if len(sig) != 8+ed25519.SignatureSize {
		return false
	}
	t := binary.BigEndian.Uint64(sig[:8])
	if t == 0 || t > 1<<63-1 {
		return false
	}
	signed := append([]byte("cosignature/v1\ntime "+strconv.FormatUint(t, 10)+"\n"), msg...)
	return ed25519.Verify(v.key, signed, sig[8:])
}

// newCosignatureV1Verifier parses a vkey "<name>+<hex key hash>+<base64(0x04 ‖ 32-byte key)>" and
// checks its key hash: SHA-256(name ‖ "\n" ‖ 0x04 ‖ key)[:4].
func newCosignatureV1Verifier(vkey string) (note.Verifier, error) {
	parts := strings.SplitN(vkey, "+", 3)
	if len(parts) != 3 || parts[0] == "" {
		return nil, errors.New("a verifier key is <name>+<hash>+<key>")
	}
	raw, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(raw) != 1+ed25519.PublicKeySize || raw[0] != sigTypeCosignatureV1 {
		return nil, errors.New("not a cosignature/v1 (0x04) Ed25519 key")
	}
	h := sha256.Sum256(append([]byte(parts[0]+"\n"), raw...))
	hash := binary.BigEndian.Uint32(h[:4])
	if fmt.Sprintf("%08x", hash) != parts[1] {
		return nil, errors.New("the key hash does not match the name and key")
	}
	return &cosignatureV1{name: parts[0], hash: hash, key: ed25519.PublicKey(raw[1:])}, nil
}

type parsedProof struct {
	extra      []byte
	hasExtra   bool
	index      int64
	proof      []tlog.Hash
	checkpoint string
}

// parseTlogProof reads "c2sp.org/tlog-proof@v1", an optional "extra <base64>", "index <N>", the
// proof's base64 hashes, an empty line, then the checkpoint note.
func parseTlogProof(text string) (parsedProof, error) {
	var p parsedProof
	head, checkpoint, found := strings.Cut(text, "\n\n")
	if !found || checkpoint == "" {
		return p, errors.New("no empty line followed by a checkpoint")
	}
	p.checkpoint = checkpoint
	lines := strings.Split(head, "\n")
	if lines[0] != "c2sp.org/tlog-proof@v1" {
		return p, errors.New("the first line is not c2sp.org/tlog-proof@v1")
	}
	at := 1
	if at < len(lines) && strings.HasPrefix(lines[at], "extra ") {
		b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(lines[at], "extra "))
		if err != nil {
			return p, fmt.Errorf("extra: %v", err)
		}
		p.extra, p.hasExtra = b, true
		at++
	}
	if at >= len(lines) || !strings.HasPrefix(lines[at], "index ") {
		return p, errors.New("no index line")
	}
	digits := strings.TrimPrefix(lines[at], "index ")
	index, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || index < 0 || strconv.FormatInt(index, 10) != digits {
		return p, fmt.Errorf("bad index %q", digits)
	}
	p.index = index
	p.proof, err = hashesOf(lines[at+1:])
	if err != nil {
		return p, err
	}
	return p, nil
}

// runProof: the log's signature (note.Open with the log's verifier), each witness's cosignature
// (note.Open with the log's and that witness's verifiers: an invalid cosignature fails that open and
// the witness does not count), the quorum, then tlog.CheckRecord over tlog.RecordHash(extra).
func runProof(req request) answer {
	p, err := parseTlogProof(req.Proof.Text)
	if err != nil {
		return answer{Error: "tlog-proof: " + err.Error()}
	}
	logVerifier, err := note.NewVerifier(req.VerifierKey)
	if err != nil {
		return answer{Error: "verifier key: " + err.Error()}
	}
	n, err := note.Open([]byte(p.checkpoint), note.VerifierList(logVerifier))
	if err != nil {
		return answer{Error: "note.Open (the log's signature): " + err.Error()}
	}
	origin, size, root, ext, err := parseCheckpoint(n.Text)
	if err != nil {
		return answer{Error: "checkpoint: " + err.Error()}
	}
	if origin != logVerifier.Name() {
		return answer{Error: fmt.Sprintf("the checkpoint's origin %q is not the log key's name %q", origin, logVerifier.Name())}
	}
	a := answer{OK: true, Origin: origin, Size: size, Root: base64.StdEncoding.EncodeToString(root[:]), Extensions: ext}
	a.Signers = append(a.Signers, fmt.Sprintf("%s+%08x", logVerifier.Name(), logVerifier.KeyHash()))
	cosigned := 0
	for i, vkey := range req.Proof.Witnesses {
		w, err := newCosignatureV1Verifier(vkey)
		if err != nil {
			return answer{Error: fmt.Sprintf("witnesses[%d]: %v", i, err)}
		}
		wn, err := note.Open([]byte(p.checkpoint), note.VerifierList(logVerifier, w))
		if err != nil {
			continue // an invalid cosignature: this witness did not cosign
		}
		for _, s := range wn.Sigs {
			if s.Name == w.Name() && s.Hash == w.KeyHash() {
				cosigned++
				a.Signers = append(a.Signers, fmt.Sprintf("%s+%08x", s.Name, s.Hash))
				break
			}
		}
	}
	if cosigned < req.Proof.Quorum {
		a.OK = false
		a.Error = fmt.Sprintf("the quorum is not met: %d of the %d witnesses cosigned, %d needed", cosigned, len(req.Proof.Witnesses), req.Proof.Quorum)
	}
	if !p.hasExtra {
		a.OK = false
		a.Inclusion = []string{"the proof carries no entry (extra)"}
		return a
	}
	if err := tlog.CheckRecord(p.proof, size, root, p.index, tlog.RecordHash(p.extra)); err != nil {
		a.OK = false
		a.Inclusion = []string{fmt.Sprintf("entry %d: %v", p.index, err)}
	} else {
		a.Inclusion = []string{"ok"}
	}
	return a
}
