// The tiles mode of tlogcheck: reads a log the way a monitor does, over C2SP tlog-tiles
// (https://c2sp.org/tlog-tiles): GET <url>/checkpoint, opened with note.Open, then the tiles
// tlog.TileHashReader asks for, with proofs made and checked by the Go checksum database's own code.
package main

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type tileRecord struct {
	Index int64  `json:"index"`
	Leaf  string `json:"leaf,omitempty"` // base64 of the record's bytes: its hash must be the tile's
}

type tilesRequest struct {
	URL           string       `json:"url"`           // the log's prefix: <url>/checkpoint, <url>/tile/...
	Records       []tileRecord `json:"records"`       // leaves to prove from tiles (tlog.ProveRecord / CheckRecord)
	OldCheckpoint string       `json:"oldCheckpoint"` // optional: a signed checkpoint seen earlier, to prove consistency with
}

type tilesAnswer struct {
	Checkpoint  string   `json:"checkpoint,omitempty"` // the note /checkpoint served
	TreeHash    string   `json:"treeHash,omitempty"`   // tlog.TreeHash over the tiles, base64
	Records     []string `json:"records,omitempty"`    // "ok" or the error, per record
	LeafHashes  []string `json:"leafHashes,omitempty"` // each record's hash as the level-0 tile holds it, base64
	OldSize     int64    `json:"oldSize,omitempty"`
	Consistency string   `json:"consistency,omitempty"`
	Fetched     []string `json:"fetched,omitempty"` // the C2SP paths fetched, in order
}

// c2spTiles is a tlog.TileReader over HTTP. Go's tiles carry their height in the path
// (tile/8/<L>/<N>[.p/<W>]); C2SP fixes the height at 8 and drops it (tile/<L>/<N>[.p/<W>]).
type c2spTiles struct {
	base    string
	client  *http.Client
	fetched []string
}

func (r *c2spTiles) Height() int { return 8 }

func c2spPath(t tlog.Tile) (string, error) {
	if t.H != 8 || t.L < 0 {
		return "", fmt.Errorf("no C2SP path for tile %+v (height 8, levels ≥ 0 only; entry bundles are not public)", t)
	}
	p := t.Path()
	if !strings.HasPrefix(p, "tile/8/") {
		return "", fmt.Errorf("unexpected Go tile path %q", p)
	}
	return "tile/" + strings.TrimPrefix(p, "tile/8/"), nil
}

func (r *c2spTiles) get(path string) ([]byte, error) {
	resp, err := r.client.Get(r.base + "/" + path)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return body, nil
}

func (r *c2spTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		p, err := c2spPath(t)
		if err != nil {
			return nil, err
		}
		r.fetched = append(r.fetched, p)
		data, err := r.get(p)
		if err != nil {
			return nil, err
		}
		if len(data) != t.W*tlog.HashSize {
			return nil, fmt.Errorf("GET %s: %d bytes, a tile of width %d has %d", p, len(data), t.W, t.W*tlog.HashSize)
		}
		out[i] = data
	}
	return out, nil
}

// SaveTiles: nothing is kept between runs.
func (r *c2spTiles) SaveTiles(tiles []tlog.Tile, data [][]byte) {}

func openCheckpoint(text string, verifier note.Verifier) (tlog.Tree, error) {
	n, err := note.Open([]byte(text), note.VerifierList(verifier))
	if err != nil {
		return tlog.Tree{}, fmt.Errorf("note.Open: %v", err)
	}
	_, size, root, _, err := parseCheckpoint(n.Text)
	if err != nil {
		return tlog.Tree{}, fmt.Errorf("checkpoint: %v", err)
	}
	return tlog.Tree{N: size, Hash: root}, nil
}

func runTiles(req request) answer {
	tr := req.Tiles
	verifier, err := note.NewVerifier(req.VerifierKey)
	if err != nil {
		return answer{Error: "verifier key: " + err.Error()}
	}
	reader := &c2spTiles{base: strings.TrimSuffix(tr.URL, "/"), client: &http.Client{Timeout: 20 * time.Second}}
	ta := &tilesAnswer{}
	fail := func(a answer, msg string) answer {
		a.OK = false
		a.Error = msg
		ta.Fetched = reader.fetched
		a.Tiles = ta
		return a
	}
	text, err := reader.get("checkpoint")
	if err != nil {
		return fail(answer{}, "checkpoint: "+err.Error())
	}
	ta.Checkpoint = string(text)
	tree, err := openCheckpoint(string(text), verifier)
	if err != nil {
		return fail(answer{}, err.Error())
	}
	a := answer{OK: true, Size: tree.N, Root: base64.StdEncoding.EncodeToString(tree.Hash[:])}
	hashes := tlog.TileHashReader(tree, reader)

	// The root from the tiles alone; every tile read through `hashes` is checked against the checkpoint's root.
	th, err := tlog.TreeHash(tree.N, hashes)
	if err != nil {
		return fail(a, "TreeHash: "+err.Error())
	}
	ta.TreeHash = base64.StdEncoding.EncodeToString(th[:])
	if th != tree.Hash {
		return fail(a, "the tiles' tree hash is not the checkpoint's root")
	}

	for i, rec := range tr.Records {
		fails := func(msg string) {
			ta.Records = append(ta.Records, fmt.Sprintf("records[%d]: %s", i, msg))
			ta.LeafHashes = append(ta.LeafHashes, "")
			a.OK = false
		}
		if rec.Index < 0 || rec.Index >= tree.N {
			fails(fmt.Sprintf("index %d is not in a tree of %d", rec.Index, tree.N))
			continue
		}
		got, err := hashes.ReadHashes([]int64{tlog.StoredHashIndex(0, rec.Index)})
		if err != nil {
			fails("ReadHashes: " + err.Error())
			continue
		}
		leaf := got[0]
		if rec.Leaf != "" {
			data, err := base64.StdEncoding.DecodeString(rec.Leaf)
			if err != nil {
				fails("leaf: " + err.Error())
				continue
			}
			if tlog.RecordHash(data) != leaf {
				fails("the record's hash is not the one in the level-0 tile")
				continue
			}
		}
		proof, err := tlog.ProveRecord(tree.N, rec.Index, hashes)
		if err == nil {
			err = tlog.CheckRecord(proof, tree.N, tree.Hash, rec.Index, leaf)
		}
		if err != nil {
			fails(err.Error())
			continue
		}
		ta.Records = append(ta.Records, "ok")
		ta.LeafHashes = append(ta.LeafHashes, base64.StdEncoding.EncodeToString(leaf[:]))
	}

	if tr.OldCheckpoint != "" {
		old, err := openCheckpoint(tr.OldCheckpoint, verifier)
		if err == nil && old.N > tree.N {
			err = fmt.Errorf("the old checkpoint (%d) is larger than the current one (%d)", old.N, tree.N)
		}
		var oldHash tlog.Hash
		if err == nil {
			// The old tree's root from its own tiles (the partial tiles of that size, which a log must still serve).
			oldHash, err = tlog.TreeHash(old.N, tlog.TileHashReader(old, reader))
			if err == nil && oldHash != old.Hash {
				err = fmt.Errorf("the old tiles' tree hash is not the old checkpoint's root")
			}
		}
		if err == nil {
			var proof tlog.TreeProof
			proof, err = tlog.ProveTree(tree.N, old.N, hashes)
			if err == nil {
				err = tlog.CheckTree(proof, tree.N, tree.Hash, old.N, old.Hash)
			}
		}
		ta.OldSize = old.N
		if err != nil {
			ta.Consistency = err.Error()
			a.OK = false
		} else {
			ta.Consistency = "ok"
		}
	}
	ta.Fetched = reader.fetched
	a.Tiles = ta
	return a
}
