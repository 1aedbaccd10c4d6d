// sigstore-go-verify BUNDLE TRUSTED_ROOT PUBKEY_PEM ARTIFACT|sha256:HEX
//
// sigstore-go's own verification of a key-signed bundle, as cosign runs it for --key: the
// signature by the key, and at least one transparency-log entry from a log the trusted root names
// (checkpoint and inclusion proof). No signed timestamp is required: a key has no validity window.
// ARTIFACT is the file the statement's subject names, or its digest (a directory model's root
// digest). A test tool: sigstore-go's example program always asks for a timestamp.
package main

import (
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
)

func main() {
	if len(os.Args) != 5 {
		fmt.Fprintln(os.Stderr, "usage: sigstore-go-verify BUNDLE TRUSTED_ROOT PUBKEY_PEM ARTIFACT|sha256:HEX")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2], os.Args[3], os.Args[4]); err != nil {
		fmt.Fprintln(os.Stderr, "sigstore-go: FAIL:", err)
		os.Exit(1)
	}
	fmt.Println("sigstore-go: OK")
}

func run(bundlePath, rootPath, keyPath, artifact string) error {
	b, err := bundle.LoadJSONFromPath(bundlePath)
	if err != nil {
		return err
	}
	trustedRoot, err := root.NewTrustedRootFromPath(rootPath)
	if err != nil {
		return err
	}
	keys, err := keyMaterial(keyPath)
	if err != nil {
		return err
	}
	verifier, err := verify.NewVerifier(root.TrustedMaterialCollection{trustedRoot, keys},
		verify.WithTransparencyLog(1), verify.WithNoObserverTimestamps())
	if err != nil {
		return err
	}
	policy, closeArtifact, err := artifactPolicy(artifact)
	if err != nil {
		return err
	}
	defer closeArtifact()
	_, err = verifier.Verify(b, policy)
	return err
}

func keyMaterial(path string) (root.TrustedMaterial, error) {
	pemBytes, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pub, err := cryptoutils.UnmarshalPEMToPublicKey(pemBytes)
	if err != nil {
		return nil, err
	}
	sv, err := signature.LoadDefaultVerifier(pub)
	if err != nil {
		return nil, err
	}
	key := root.NewExpiringKey(sv, time.Time{}, time.Time{})
	return root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) { return key, nil }), nil
}

func artifactPolicy(artifact string) (verify.PolicyBuilder, func(), error) {
	if digest, ok := strings.CutPrefix(artifact, "sha256:"); ok {
		raw, err := hex.DecodeString(digest)
		if err != nil {
			return verify.PolicyBuilder{}, nil, err
		}
		return verify.NewPolicy(verify.WithArtifactDigest("sha256", raw), verify.WithKey()), func() {}, nil
	}
	f, err := os.Open(artifact)
	if err != nil {
		return verify.PolicyBuilder{}, nil, err
	}
	return verify.NewPolicy(verify.WithArtifact(f), verify.WithKey()), func() { _ = f.Close() }, nil
}
