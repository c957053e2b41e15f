// Only in builds that link libcurl statically (FERRY_STATIC_DEPS, the
// default; CMakeLists.txt adds this file to the link only then).
//
// Debian's libcurl.a is the whole of curl: besides HTTP(S) it carries
// RTMP, LDAP, SCP/SFTP, GSSAPI (Kerberos), HTTP/2, IDN and the
// public-suffix list, and its static link line names a library for each.
// Those libraries and what they pull in (GnuTLS, Kerberos, SASL, p11-kit,
// ...) were most of the 37 shared objects every ferry process mapped and
// relocated (docs/architecture.md, "Start-up and resident memory"). ferry
// reaches none of them: it allows only http and https, redirects included,
// asks for HTTP/1.1 only, sets no cookies and allows neither Negotiate nor
// SOCKS5-GSSAPI authentication (http_client.cc, CurlStream::configure). So
// their entry points are defined here instead. (brotli is linked for real:
// a server may send `Transfer-Encoding: br`, which curl decodes unasked.)
//
// What libcurl calls whatever the options gets the answer of a library
// that is present and offers nothing: libssh2_init succeeds
// (curl_global_init fails otherwise), idn2_check_version says "too old" (so
// curl never converts host names) and the other version queries say
// "none". Everything else stops the process with a message naming the
// function: if a newer libcurl or a new option ever reaches one, ferry
// fails loudly rather than carrying on with a library that is not there.
// http_client_test.cc ("UnlinkedLibraries") sends a hostile server's
// answers down the paths that could reach them.
//
// A new libcurl needing another symbol fails the link, naming it; add it
// below.

#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace {

[[noreturn]] void left_out(const char* name) {
  // write(2), not stdio: this may run on any thread, in any state.
  const char a[] = "ferry: internal error: libcurl called ";
  const char b[] = "(), from a library this build does not link (src/net/curl_unlinked_deps.cc)\n";
  ssize_t ignored = ::write(2, a, sizeof a - 1);
  ignored = ::write(2, name, std::strlen(name));
  ignored = ::write(2, b, sizeof b - 1);
  (void)ignored;
  std::abort();
}

// nghttp2_info, as nghttp2.h lays it out (curl reads version_str).
struct Nghttp2Info {
  int age;
  int version_num;
  const char* version_str;
  const char* proto_str;
};
const Nghttp2Info kNoNghttp2{1, 0, "none", "h2"};

}  // namespace

extern "C" {

// --- called unconditionally: curl_global_init, curl_version(_info) -------
int libssh2_init(int) { return 0; }
void libssh2_exit() {}
const char* libssh2_version(int) { return "none"; }
const void* nghttp2_version(int) { return &kNoNghttp2; }
const char* idn2_check_version(const char*) { return nullptr; }
const char* psl_get_version() { return "none"; }
// curl_version() asks OpenLDAP for its version; LDAP_OPT_ERROR makes it
// print plain "OpenLDAP".
int ldap_get_option(void*, int, void*) { return -1; }

// GSSAPI's name-type OID is data, not a function.
extern const void* const GSS_C_NT_HOSTBASED_SERVICE;
const void* const GSS_C_NT_HOSTBASED_SERVICE = nullptr;

// --- never reached with ferry's options ----------------------------------
#define FERRY_LEFT_OUT(name) \
  [[noreturn]] void name() { left_out(#name); }

// GSSAPI: Negotiate and SOCKS5-GSSAPI authentication, both disallowed.
FERRY_LEFT_OUT(gss_delete_sec_context)
FERRY_LEFT_OUT(gss_display_name)
FERRY_LEFT_OUT(gss_display_status)
FERRY_LEFT_OUT(gss_import_name)
FERRY_LEFT_OUT(gss_init_sec_context)
FERRY_LEFT_OUT(gss_inquire_context)
FERRY_LEFT_OUT(gss_release_buffer)
FERRY_LEFT_OUT(gss_release_name)
FERRY_LEFT_OUT(gss_unwrap)
FERRY_LEFT_OUT(gss_wrap)

// libidn2: host-name conversion, off because idn2_check_version says so.
FERRY_LEFT_OUT(idn2_free)
FERRY_LEFT_OUT(idn2_lookup_ul)

// libpsl: cookie domains; ferry keeps no cookies.
FERRY_LEFT_OUT(psl_builtin)
FERRY_LEFT_OUT(psl_free)
FERRY_LEFT_OUT(psl_is_cookie_domain_acceptable)
FERRY_LEFT_OUT(psl_latest)

// librtmp, OpenLDAP, libssh2: rtmp://, ldap://, scp:// and sftp:// URLs,
// refused by CURLOPT_PROTOCOLS_STR / CURLOPT_REDIR_PROTOCOLS_STR.
FERRY_LEFT_OUT(RTMP_Alloc)
FERRY_LEFT_OUT(RTMP_Close)
FERRY_LEFT_OUT(RTMP_Connect1)
FERRY_LEFT_OUT(RTMP_ConnectStream)
FERRY_LEFT_OUT(RTMP_Free)
FERRY_LEFT_OUT(RTMP_Init)
FERRY_LEFT_OUT(RTMP_Read)
FERRY_LEFT_OUT(RTMP_SetBufferMS)
FERRY_LEFT_OUT(RTMP_SetupURL)
FERRY_LEFT_OUT(RTMP_Write)
FERRY_LEFT_OUT(ber_bvfree)
FERRY_LEFT_OUT(ber_free)
FERRY_LEFT_OUT(ber_memfree)
FERRY_LEFT_OUT(ber_memvfree)
FERRY_LEFT_OUT(ber_sockbuf_add_io)
FERRY_LEFT_OUT(ldap_abandon_ext)
FERRY_LEFT_OUT(ldap_err2string)
FERRY_LEFT_OUT(ldap_free_urldesc)
FERRY_LEFT_OUT(ldap_get_attribute_ber)
FERRY_LEFT_OUT(ldap_get_dn_ber)
FERRY_LEFT_OUT(ldap_init_fd)
FERRY_LEFT_OUT(ldap_memfree)
FERRY_LEFT_OUT(ldap_msgfree)
FERRY_LEFT_OUT(ldap_msgtype)
FERRY_LEFT_OUT(ldap_parse_result)
FERRY_LEFT_OUT(ldap_parse_sasl_bind_result)
FERRY_LEFT_OUT(ldap_pvt_url_scheme2proto)
FERRY_LEFT_OUT(ldap_result)
FERRY_LEFT_OUT(ldap_sasl_bind)
FERRY_LEFT_OUT(ldap_search_ext)
FERRY_LEFT_OUT(ldap_set_option)
FERRY_LEFT_OUT(ldap_start_tls)
FERRY_LEFT_OUT(ldap_unbind_ext)
FERRY_LEFT_OUT(ldap_url_parse)
FERRY_LEFT_OUT(libssh2_agent_connect)
FERRY_LEFT_OUT(libssh2_agent_disconnect)
FERRY_LEFT_OUT(libssh2_agent_free)
FERRY_LEFT_OUT(libssh2_agent_get_identity)
FERRY_LEFT_OUT(libssh2_agent_init)
FERRY_LEFT_OUT(libssh2_agent_list_identities)
FERRY_LEFT_OUT(libssh2_agent_userauth)
FERRY_LEFT_OUT(libssh2_channel_free)
FERRY_LEFT_OUT(libssh2_channel_read_ex)
FERRY_LEFT_OUT(libssh2_channel_send_eof)
FERRY_LEFT_OUT(libssh2_channel_wait_closed)
FERRY_LEFT_OUT(libssh2_channel_wait_eof)
FERRY_LEFT_OUT(libssh2_channel_write_ex)
FERRY_LEFT_OUT(libssh2_hostkey_hash)
FERRY_LEFT_OUT(libssh2_knownhost_add)
FERRY_LEFT_OUT(libssh2_knownhost_checkp)
FERRY_LEFT_OUT(libssh2_knownhost_del)
FERRY_LEFT_OUT(libssh2_knownhost_free)
FERRY_LEFT_OUT(libssh2_knownhost_get)
FERRY_LEFT_OUT(libssh2_knownhost_init)
FERRY_LEFT_OUT(libssh2_knownhost_readfile)
FERRY_LEFT_OUT(libssh2_knownhost_writefile)
FERRY_LEFT_OUT(libssh2_scp_recv2)
FERRY_LEFT_OUT(libssh2_scp_send64)
FERRY_LEFT_OUT(libssh2_session_abstract)
FERRY_LEFT_OUT(libssh2_session_block_directions)
FERRY_LEFT_OUT(libssh2_session_callback_set)
FERRY_LEFT_OUT(libssh2_session_disconnect_ex)
FERRY_LEFT_OUT(libssh2_session_flag)
FERRY_LEFT_OUT(libssh2_session_free)
FERRY_LEFT_OUT(libssh2_session_handshake)
FERRY_LEFT_OUT(libssh2_session_hostkey)
FERRY_LEFT_OUT(libssh2_session_init_ex)
FERRY_LEFT_OUT(libssh2_session_last_errno)
FERRY_LEFT_OUT(libssh2_session_last_error)
FERRY_LEFT_OUT(libssh2_session_method_pref)
FERRY_LEFT_OUT(libssh2_session_set_blocking)
FERRY_LEFT_OUT(libssh2_sftp_close_handle)
FERRY_LEFT_OUT(libssh2_sftp_init)
FERRY_LEFT_OUT(libssh2_sftp_last_error)
FERRY_LEFT_OUT(libssh2_sftp_mkdir_ex)
FERRY_LEFT_OUT(libssh2_sftp_open_ex)
FERRY_LEFT_OUT(libssh2_sftp_read)
FERRY_LEFT_OUT(libssh2_sftp_readdir_ex)
FERRY_LEFT_OUT(libssh2_sftp_rename_ex)
FERRY_LEFT_OUT(libssh2_sftp_rmdir_ex)
FERRY_LEFT_OUT(libssh2_sftp_seek64)
FERRY_LEFT_OUT(libssh2_sftp_shutdown)
FERRY_LEFT_OUT(libssh2_sftp_stat_ex)
FERRY_LEFT_OUT(libssh2_sftp_statvfs)
FERRY_LEFT_OUT(libssh2_sftp_symlink_ex)
FERRY_LEFT_OUT(libssh2_sftp_unlink_ex)
FERRY_LEFT_OUT(libssh2_sftp_write)
FERRY_LEFT_OUT(libssh2_userauth_authenticated)
FERRY_LEFT_OUT(libssh2_userauth_keyboard_interactive_ex)
FERRY_LEFT_OUT(libssh2_userauth_list)
FERRY_LEFT_OUT(libssh2_userauth_password_ex)
FERRY_LEFT_OUT(libssh2_userauth_publickey_fromfile_ex)

// nghttp2: HTTP/2, which ferry never asks for (CURL_HTTP_VERSION_1_1).
FERRY_LEFT_OUT(nghttp2_http2_strerror)
FERRY_LEFT_OUT(nghttp2_is_fatal)
FERRY_LEFT_OUT(nghttp2_option_del)
FERRY_LEFT_OUT(nghttp2_option_new)
FERRY_LEFT_OUT(nghttp2_option_set_no_rfc9113_leading_and_trailing_ws_validation)
FERRY_LEFT_OUT(nghttp2_pack_settings_payload)
FERRY_LEFT_OUT(nghttp2_priority_spec_init)
FERRY_LEFT_OUT(nghttp2_session_callbacks_del)
FERRY_LEFT_OUT(nghttp2_session_callbacks_new)
FERRY_LEFT_OUT(nghttp2_session_callbacks_set_error_callback)
FERRY_LEFT_OUT(nghttp2_session_callbacks_set_on_begin_headers_callback)
FERRY_LEFT_OUT(nghttp2_session_callbacks_set_on_data_chunk_recv_callback)
FERRY_LEFT_OUT(nghttp2_session_callbacks_set_on_frame_recv_callback)
FERRY_LEFT_OUT(nghttp2_session_callbacks_set_on_header_callback)
FERRY_LEFT_OUT(nghttp2_session_callbacks_set_on_stream_close_callback)
FERRY_LEFT_OUT(nghttp2_session_callbacks_set_send_callback)
FERRY_LEFT_OUT(nghttp2_session_check_request_allowed)
FERRY_LEFT_OUT(nghttp2_session_client_new2)
FERRY_LEFT_OUT(nghttp2_session_del)
FERRY_LEFT_OUT(nghttp2_session_get_remote_settings)
FERRY_LEFT_OUT(nghttp2_session_get_remote_window_size)
FERRY_LEFT_OUT(nghttp2_session_get_stream_remote_window_size)
FERRY_LEFT_OUT(nghttp2_session_get_stream_user_data)
FERRY_LEFT_OUT(nghttp2_session_mem_recv)
FERRY_LEFT_OUT(nghttp2_session_resume_data)
FERRY_LEFT_OUT(nghttp2_session_send)
FERRY_LEFT_OUT(nghttp2_session_set_local_window_size)
FERRY_LEFT_OUT(nghttp2_session_set_stream_user_data)
FERRY_LEFT_OUT(nghttp2_session_upgrade2)
FERRY_LEFT_OUT(nghttp2_session_want_read)
FERRY_LEFT_OUT(nghttp2_session_want_write)
FERRY_LEFT_OUT(nghttp2_strerror)
FERRY_LEFT_OUT(nghttp2_submit_ping)
FERRY_LEFT_OUT(nghttp2_submit_priority)
FERRY_LEFT_OUT(nghttp2_submit_request)
FERRY_LEFT_OUT(nghttp2_submit_rst_stream)
FERRY_LEFT_OUT(nghttp2_submit_settings)

#undef FERRY_LEFT_OUT

}  // extern "C"
