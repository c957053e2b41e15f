package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"os"
	"time"
)

func layer(files map[string]string, order []string) []byte {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, n := range order {
		c := files[n]
		tw.WriteHeader(&tar.Header{Name: n, Mode: 0644, Size: int64(len(c)), ModTime: time.Unix(1700000000, 0), Typeflag: tar.TypeReg, Format: tar.FormatUSTAR})
		tw.Write([]byte(c))
	}
	tw.Close()
	return b.Bytes()
}

func dg(b []byte) string { return fmt.Sprintf("sha256:%x", sha256.Sum256(b)) }

func main() {
	out := os.Args[1]
	os.MkdirAll(out, 0755)
	l1 := layer(map[string]string{"hello.txt": "hello from layer one\n"}, []string{"hello.txt"})
	l2 := layer(map[string]string{"etc/motd": "layer two <&>\n", "etc/x": "x"}, []string{"etc/motd", "etc/x"})
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(l2)
	zw.Close()
	os.WriteFile(out+"/layer1.tar", l1, 0644)
	os.WriteFile(out+"/layer2.tar", l2, 0644)
	os.WriteFile(out+"/layer2.tar.gz", gz.Bytes(), 0644)
	config := fmt.Sprintf(`{
  "architecture": "arm64",
  "variant": "v8",
  "os": "linux",
  "created": "2023-11-14T22:13:20.123456789Z",
  "docker_version": "24.0.7",
  "container": "0123abcd",
  "author": "ferry <tests@example.com>",
  "container_config": { "Hostname": "h", "Cmd": ["/bin/sh", "-c", "echo <a> & b"], "Image": "" },
  "config": {
    "Env": ["PATH=/usr/bin", "WEIRD=1.0e2"],
    "Cmd": ["/bin/sh"],
    "Labels": {"z": "last", "a": "first & <second>", "u": "\u2028"},
    "StopSignal": "SIGTERM"
  },
  "rootfs": {"type": "layers", "diff_ids": ["%s", "%s", "%s"]},
  "history": [
    {"created": "2023-11-14T22:13:20Z", "created_by": "one"},
    {"created": "2023-11-14T22:13:21Z", "created_by": "two"},
    {"created": "2023-11-14T22:13:22Z", "created_by": "one again"}
  ],
  "container": "duplicate-key-last-wins"
}
`, dg(l1), dg(l2), dg(l1))
	os.WriteFile(out+"/config.json", []byte(config), 0644)
	// A dir: image for skopeo: layer2 gzip-compressed, layer1 twice.
	d := out + "/dirimg"
	os.MkdirAll(d, 0755)
	hex := func(s string) string { return s[7:] }
	os.WriteFile(d+"/"+hex(dg(l1)), l1, 0644)
	os.WriteFile(d+"/"+hex(dg(gz.Bytes())), gz.Bytes(), 0644)
	os.WriteFile(d+"/"+hex(dg([]byte(config))), []byte(config), 0644)
	m := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":%d,"digest":"%s"},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar","size":%d,"digest":"%s"},{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":%d,"digest":"%s"},{"mediaType":"application/vnd.docker.image.rootfs.diff.tar","size":%d,"digest":"%s"}]}`,
		len(config), dg([]byte(config)), len(l1), dg(l1), gz.Len(), dg(gz.Bytes()), len(l1), dg(l1))
	os.WriteFile(d+"/manifest.json", []byte(m), 0644)
	os.WriteFile(d+"/version", []byte("Directory Transport Version: 1.1\n"), 0644)
}
