// Package sshkeytest makes fresh SSH public key lines for tests, as an
// id_*.pub file holds them: "algorithm base64 comment".
package sshkeytest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

// Ed25519 returns the line of a fresh Ed25519 key with comment.
func Ed25519(t testing.TB, comment string) string {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return Line(t, pub, comment)
}

// ECDSA returns the line of a fresh ECDSA P-256 key with comment.
func ECDSA(t testing.TB, comment string) string {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return Line(t, &priv.PublicKey, comment)
}

// RSA returns the line of a fresh RSA key of bits bits with comment.
func RSA(t testing.TB, bits int, comment string) string {
	t.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	return Line(t, &priv.PublicKey, comment)
}

// Line returns the public key line of pub with comment (none when empty).
func Line(t testing.TB, pub crypto.PublicKey, comment string) string {
	t.Helper()
	key, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key)))
	if comment != "" {
		line += " " + comment
	}
	return line
}
