// Where `login` stores and `logout` removes credentials when the user named
// no auth file: registries.conf's credential-helpers, in order, as
// containers/image's SetCredentials / RemoveAuthentication do.
// "containers-auth.json" (kAuthFileCredentialHelper, also the default when
// registries.conf names none) is the auth file; any other name is a
// docker-credential-<name> program. A user-named auth file bypasses this.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "config/auth_file.h"

namespace ferry {

// Stores in the first helper that takes them; returns where they went (the
// auth file's path, or "credential helper: NAME"). When every helper fails:
// Go's multierror text, "N error(s) occurred:\n\t* ...".
std::string store_credentials(const std::vector<std::string>& helpers,
                              const std::function<LoginAuthFile()>& auth_file, const CredentialsKey& k,
                              const std::string& username, const std::string& password);

// Removes the key from every helper; false when none of them had it.
bool remove_stored_credentials(const std::vector<std::string>& helpers,
                               const std::function<LoginAuthFile()>& auth_file, const CredentialsKey& k);

// logout --all: empties the auth file and erases everything each
// credential helper lists (a helper that is not installed holds nothing).
void remove_all_stored_credentials(const std::vector<std::string>& helpers,
                                   const std::function<LoginAuthFile()>& auth_file);

}  // namespace ferry
