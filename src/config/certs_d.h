// containers-certs.d(5): per-registry TLS material. A directory named after
// host[:port] holds extra CA certificates (*.crt) and client certificate
// pairs (NAME.cert + NAME.key), found as containers/image finds them.
#pragma once

#include <string>

#include "image/system_context.h"
#include "net/http_client.h"

namespace ferry {

// The directory consulted for host_port: ctx.cert_dir when set (used as is,
// no host subdirectory), else the first existing of
// $HOME/.config/containers/certs.d/<host_port>, /etc/containers/certs.d/<host_port>,
// /etc/docker/certs.d/<host_port> (the last one when none exists).
std::string cert_dir_for(const SystemContext& ctx, const std::string& host_port);

// Scans dir: *.crt -> ca_files (name order); the first NAME.cert with its
// NAME.key -> client_cert_file / client_key_file. A missing or unreadable
// directory yields no files. Errors (c/image's text):
//   missing key X.key for client certificate X.cert. Note that CA certificates should use the
//   extension .crt missing client certificate X.cert for key X.key open DIR/X.crt: permission
//   denied            (a listed file that cannot be read)
void add_certs_from_dir(const std::string& dir, net::TlsConfig* tls);

// The TLS settings for talking to host_port: cert_dir_for's files, and
// verify = false when --tls-verify=false or registries.conf marks the
// registry insecure, except that an explicit --tls-verify=true wins.
net::TlsConfig tls_config_for(const SystemContext& ctx, const std::string& host_port,
                              bool insecure_from_registries_conf);

}  // namespace ferry
