#!/usr/bin/env python3
# Regenerates the manifest conversion fixtures with the reference skopeo
# (Debian's 1.9.3): builds small images in dir: layout by hand, lets skopeo
# convert / inspect them, and keeps skopeo's manifests and configs (not the
# layer blobs) as the expected bytes for src/image/manifest/*_test.cc.
#
#   cd tests/data/manifest && ./make_fixtures.py
import gzip, hashlib, io, json, os, shutil, subprocess, tarfile, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TMP = tempfile.mkdtemp(prefix='ferry-fixtures-')

def sha(b): return hashlib.sha256(b).hexdigest()

def layer_tar(name, content):
    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode='w', format=tarfile.USTAR_FORMAT) as t:
        ti = tarfile.TarInfo(name); ti.size = len(content); ti.mtime = 0
        t.addfile(ti, io.BytesIO(content))
    return bio.getvalue()

def gz(b): return gzip.compress(b, mtime=0)

EMPTY_GZ = bytes([31, 139, 8, 0, 0, 9, 110, 136, 0, 255, 98, 24, 5, 163, 96, 20, 140, 88,
                  0, 8, 0, 0, 255, 255, 46, 175, 181, 239, 0, 4, 0, 0])

def write_dir(path, manifest, blobs):
    os.makedirs(path)
    for b in blobs:
        open(os.path.join(path, sha(b)), 'wb').write(b)
    open(os.path.join(path, 'manifest.json'), 'wb').write(manifest)
    open(os.path.join(path, 'version'), 'w').write('Directory Transport Version: 1.1\n')

def skopeo(*args):
    return subprocess.run(['skopeo', '--insecure-policy'] + list(args), check=True, capture_output=True).stdout

def copy(src, dst, *flags):
    skopeo('copy', '-q', *flags, 'dir:' + src, 'dir:' + dst)

def out(name, data):
    open(os.path.join(HERE, name), 'wb').write(data)

def read(path, name): return open(os.path.join(path, name), 'rb').read()

def config_of(path):
    m = json.loads(read(path, 'manifest.json'))
    return read(path, m['config']['digest'].split(':')[1])

# Layers: gzip, foreign gzip with URLs, uncompressed.
tar1 = layer_tar('a.txt', b'hello\n'); gz1 = gz(tar1)
tar2 = layer_tar('b.txt', b'foreign\n'); gz2 = gz(tar2)
tar3 = layer_tar('c.txt', b'plain\n')

# A Docker config exercising Go's unmarshal rules: keys in odd case (and one
# with U+017F LONG S folding to 's'), a repeated "config" whose Labels merge,
# null over a string, HTML characters, U+2028, a lone surrogate escape, raw
# invalid UTF-8, nanosecond and +02:00 times, Docker-only fields to drop.
docker_config = (
    b'{"Architecture":"amd64","OS":"linux","Created":"2023-04-05T06:07:08.123456780Z",'
    b'"author":"Jane <jane@example.com> & co","docker_version":"20.10.21",'
    b'"config":{"user":"root","ExposedPorts":{"80/tcp":{},"443/tcp":{}},"env":["PATH=/usr/bin","X=<&>"],'
    b'"Cmd":["/bin/sh","-c","echo \\u2028"],"Volumes":{"/data":{}},"WorkingDir":"/w",'
    b'"Labels":{"z":"1","a":"<b>&amp;</b>","\\u2028":"line sep","bad":"\\ud800x\xff"},'
    b'"\xc5\xbftopSignal":"SIGTERM","ArgsEscaped":true,"Hostname":"abc","Image":"sha256:00"},'
    b'"container_config":{"Hostname":"x","Cmd":["/bin/sh","-c","#(nop) CMD"]},'
    b'"CONFIG":{"Labels":{"merged":"yes"},"WorkingDir":null},'
    b'"rootfs":{"type":"layers","diff_ids":["sha256:' + sha(tar1).encode() + b'","sha256:' + sha(tar2).encode() +
    b'","sha256:' + sha(tar3).encode() + b'"]},'
    b'"history":[{"created":"2023-01-01T00:00:00+02:00","created_by":"/bin/sh -c #(nop) ADD file:a in /"},'
    b'{"created":"2023-01-01T00:00:01.500Z","created_by":"/bin/sh -c #(nop)  CMD [\\"/bin/sh\\"]","empty_layer":true,'
    b'"comment":"c"},{"created":"2023-01-02T03:04:05.000000001-07:30","created_by":"ADD b","author":"x"},'
    b'{"created_by":"ADD c"}],'
    b'"variant":"v8","os.version":"10.0","os.features":["win32k"],"unknown":{"a":[1,2]}}')

v2s2 = json.dumps({
    "schemaVersion": 2,
    "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
    "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": len(docker_config),
               "digest": "sha256:" + sha(docker_config)},
    "layers": [
        {"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": len(gz1), "digest": "sha256:" + sha(gz1)},
        {"mediaType": "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", "size": len(gz2),
         "digest": "sha256:" + sha(gz2), "urls": ["https://example.com/<layer>&x"]},
        {"mediaType": "application/vnd.docker.image.rootfs.diff.tar", "size": len(tar3), "digest": "sha256:" + sha(tar3)},
    ]}, indent=3).encode()
write_dir(TMP + '/v2s2', v2s2, [docker_config, gz1, gz2, tar3])
out('v2s2.manifest.json', v2s2)
out('v2s2.config.json', docker_config)

# v2s2 -> OCI (dir: keeps layer compression, so only the manifest changes).
copy(TMP + '/v2s2', TMP + '/oci', '--format', 'oci')
out('v2s2_to_oci.manifest.json', read(TMP + '/oci', 'manifest.json'))
out('v2s2_to_oci.config.json', config_of(TMP + '/oci'))
# ... and back: OCI -> v2s2 keeps the (OCI) config bytes.
copy(TMP + '/oci', TMP + '/oci_v2s2', '--format', 'v2s2')
out('oci_to_v2s2.manifest.json', read(TMP + '/oci_v2s2', 'manifest.json'))
# v2s2 -> signed schema 1 (the signature is random; tests compare the payload).
copy(TMP + '/v2s2', TMP + '/s1', '--format', 'v2s1')
out('v2s2_to_schema1.manifest.json', read(TMP + '/s1', 'manifest.json'))
out('v2s2_to_schema1.digest', skopeo('manifest-digest', TMP + '/s1/manifest.json'))

# Layer edits: decompressing layers rewrites the manifest in its own format.
copy(TMP + '/v2s2', TMP + '/v2s2_dec', '--dest-decompress')
out('v2s2_decompressed.manifest.json', read(TMP + '/v2s2_dec', 'manifest.json'))

# An OCI manifest with the fields c/image's structs keep or drop.
oci_config = b'{"architecture":"arm64","os":"linux","config":{"Env":["A=1"]},"rootfs":{"type":"layers","diff_ids":["sha256:' + \
    sha(tar1).encode() + b'","sha256:' + sha(tar3).encode() + b'"]}}'
oci = json.dumps({
    "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "artifactType": "dropped/by-go",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": len(oci_config),
               "digest": "sha256:" + sha(oci_config), "data": "e3\r\n0=", "annotations": {"k": "v"},
               "platform": {"architecture": "arm64", "os": "linux", "variant": "v8", "os.features": ["f"], "os.version": "1"},
               "artifactType": "a/b"},
    "layers": [
        {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "size": len(gz1), "digest": "sha256:" + sha(gz1),
         "annotations": {"b": "2", "a": "<1>"}, "urls": ["https://example.com/x"]},
        {"mediaType": "application/vnd.oci.image.layer.nondistributable.v1.tar", "size": len(tar3),
         "digest": "sha256:" + sha(tar3)}],
    "subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 7, "digest": "sha256:" + sha(b'subject')},
    "annotations": {"z": "1", "a": "&"}, "unknown": True}, indent=2).encode()
write_dir(TMP + '/ocix', oci, [oci_config, gz1, tar3])
out('oci.manifest.json', oci)
out('oci.config.json', oci_config)
copy(TMP + '/ocix', TMP + '/ocix_v2s2', '--format', 'v2s2')
out('oci_extras_to_v2s2.manifest.json', read(TMP + '/ocix_v2s2', 'manifest.json'))
copy(TMP + '/ocix', TMP + '/ocix_comp', '--dest-compress')
out('oci_compressed.manifest.json', read(TMP + '/ocix_comp', 'manifest.json'))
out('oci.inspect.json', skopeo('inspect', 'dir:' + TMP + '/ocix'))
out('oci.inspect_config.json', skopeo('inspect', '--config', 'dir:' + TMP + '/ocix'))

out('v2s2.inspect.json', skopeo('inspect', 'dir:' + TMP + '/v2s2'))
out('v2s2.inspect_config.json', skopeo('inspect', '--config', 'dir:' + TMP + '/v2s2'))

# Schema 1 (unsigned): newest first, a throwaway entry using the empty layer.
def v1c(d): return json.dumps(d, separators=(',', ':'))
ids = [sha(('id%d' % i).encode()) for i in range(4)]
s1_history = [
    {"id": ids[3], "parent": ids[2], "created": "2020-05-06T07:08:09.1Z", "container": "c0ffee",
     "container_config": {"Hostname": "h", "Cmd": ["/bin/sh", "-c", "#(nop) ", "CMD [\"sh\"]"]},
     "config": {"Hostname": "h", "Env": ["PATH=/bin"], "Cmd": ["sh"], "Labels": {"l": "<v>"},
                "ExposedPorts": {"8080/tcp": {}}},
     "architecture": "amd64", "os": "linux", "docker_version": "18.09.7", "throwaway": True, "Size": 0},
    {"id": ids[2], "parent": ids[1], "created": "2020-05-06T07:08:08Z", "author": "me",
     "container_config": {"Cmd": ["/bin/sh", "-c", "#(nop) ADD file:c in /"]}},
    {"id": ids[1], "parent": ids[0], "created": "2020-05-06T07:08:07+01:00", "comment": "dup"},
    {"id": ids[0], "created": "2020-05-06T07:08:06Z", "container_config": {"Cmd": ["/bin/sh", "-c", "#(nop) ADD file:a"]}},
]
s1_layers = [EMPTY_GZ, gz(tar3), gz2, gz1]
def schema1(history, layers, extra=None):
    m = {"schemaVersion": 1, "name": "library/test", "tag": "v1", "architecture": "amd64",
         "fsLayers": [{"blobSum": "sha256:" + sha(b)} for b in layers],
         "history": [{"v1Compatibility": v1c(h)} for h in history]}
    if extra: m.update(extra)
    return json.dumps(m, indent=3).encode()
s1 = schema1(s1_history, s1_layers)
write_dir(TMP + '/s1src', s1, s1_layers)
out('schema1.manifest.json', s1)
copy(TMP + '/s1src', TMP + '/s1_v2s2', '--format', 'v2s2')
out('schema1_to_v2s2.manifest.json', read(TMP + '/s1_v2s2', 'manifest.json'))
out('schema1_to_v2s2.config.json', config_of(TMP + '/s1_v2s2'))
copy(TMP + '/s1src', TMP + '/s1_oci', '--format', 'oci')
out('schema1_to_oci.manifest.json', read(TMP + '/s1_oci', 'manifest.json'))
out('schema1_to_oci.config.json', config_of(TMP + '/s1_oci'))
out('schema1.inspect.json', skopeo('inspect', 'dir:' + TMP + '/s1src'))
out('schema1.inspect_config.json', skopeo('inspect', '--config', 'dir:' + TMP + '/s1src'))

# Docker before 1.8.3: the top v1Compatibility is re-encoded through Go's struct.
old = [dict(s1_history[0], docker_version="1.6.2")] + s1_history[1:]
s1old = schema1(old, s1_layers)
write_dir(TMP + '/s1old', s1old, s1_layers)
out('schema1_old.manifest.json', s1old)
copy(TMP + '/s1old', TMP + '/s1old_v2s2', '--format', 'v2s2')
out('schema1_old_to_v2s2.manifest.json', read(TMP + '/s1old_v2s2', 'manifest.json'))
out('schema1_old_to_v2s2.config.json', config_of(TMP + '/s1old_v2s2'))

shutil.rmtree(TMP)
