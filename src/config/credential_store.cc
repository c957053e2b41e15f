#include "config/credential_store.h"

#include "config/registries_conf.h"
#include "util/error.h"
#include "util/go_quote.h"

namespace ferry {

namespace {

// A helper program is keyed by registry alone.
void check_not_namespaced(const CredentialsKey& k, const std::string& helper) {
  if (k.key != k.registry)
    throw Error("namespaced key " + go_quote(k.key) + " is not supported for credential helper " + helper);
}

}  // namespace

std::string store_credentials(const std::vector<std::string>& helpers,
                              const std::function<LoginAuthFile()>& auth_file, const CredentialsKey& k,
                              const std::string& username, const std::string& password) {
  std::vector<std::string> errors;
  for (const std::string& helper : helpers) {
    try {
      if (helper == kAuthFileCredentialHelper) {
        const LoginAuthFile f = auth_file();
        return set_credentials(f.path, k.key, username, password, f.format);
      }
      check_not_namespaced(k, helper);
      credential_helper_store(helper, k.registry, username, password);
      return "credential helper: " + helper;
    } catch (const Error& e) {
      errors.push_back(e.what());
    }
  }
  if (errors.empty()) throw Error("no credential helpers configured to store credentials in");
  throw Error(go_multierror_text(errors));
}

bool remove_stored_credentials(const std::vector<std::string>& helpers,
                               const std::function<LoginAuthFile()>& auth_file, const CredentialsKey& k) {
  bool removed = false;
  std::vector<std::string> errors;
  for (const std::string& helper : helpers) {
    try {
      if (helper == kAuthFileCredentialHelper) {
        const LoginAuthFile f = auth_file();
        removed |= remove_credentials(f.path, k.key, f.format);
      } else {
        check_not_namespaced(k, helper);
        removed |= credential_helper_erase(helper, k.registry);
      }
    } catch (const Error& e) {
      errors.push_back(e.what());
    }
  }
  if (!errors.empty()) throw Error(go_multierror_text(errors));
  return removed;
}

void remove_all_stored_credentials(const std::vector<std::string>& helpers,
                                   const std::function<LoginAuthFile()>& auth_file) {
  std::vector<std::string> errors;
  for (const std::string& helper : helpers) {
    try {
      if (helper == kAuthFileCredentialHelper) {
        remove_all_credentials(auth_file().path);
        continue;
      }
      std::vector<std::string> servers;
      try {
        servers = credential_helper_list(helper);
      } catch (const Error& e) {
        // Not installed: it holds nothing (as containers/image treats it).
        if (std::string(e.what()).find("executable file not found") != std::string::npos) continue;
        throw;
      }
      for (const std::string& server : servers) credential_helper_erase(helper, server);
    } catch (const Error& e) {
      errors.push_back(e.what());
    }
  }
  if (!errors.empty()) throw Error(go_multierror_text(errors));
}

}  // namespace ferry
