package gateway

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// keyring finds the game of a write key in time that depends neither on how
// much of a key matches nor on its length: keys are compared as SHA-256
// digests, each stored digest in constant time, and every stored key is
// always visited.
type keyring struct {
	digests [][sha256.Size]byte
	games   []string
}

func newKeyring(keys map[string]string) *keyring {
	kr := &keyring{}
	for k, g := range keys {
		kr.digests = append(kr.digests, sha256.Sum256([]byte(k)))
		kr.games = append(kr.games, g)
	}
	return kr
}

func (kr *keyring) lookup(key string) (idx int, ok bool) {
	d := sha256.Sum256([]byte(key))
	idx = -1
	for i := range kr.digests {
		if subtle.ConstantTimeCompare(d[:], kr.digests[i][:]) == 1 {
			idx = i
		}
	}
	if idx < 0 {
		return -1, false
	}
	return idx, true
}

// requestKey returns the key from `Authorization: Bearer KEY` or `X-API-Key`.
func requestKey(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		if scheme, rest, ok := strings.Cut(h, " "); ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(rest)
		}
	}
	return strings.TrimSpace(r.Header.Get("X-API-Key"))
}
