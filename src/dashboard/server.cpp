// The dashboard's HTTP server: cpp-httplib, every request handed to
// Handler::handle before httplib's own routing (so no file is ever served
// from a path), with headers that keep the page to its own origin.
#include <httplib.h>
#include <sys/socket.h>

#include <atomic>
#include <filesystem>
#include <fmt/format.h>
#include <thread>

#include "kerntune/dashboard/dashboard.hpp"
#include "kerntune/util/text.hpp"

namespace kerntune::dashboard {
namespace {

constexpr const char* kCsp =
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

util::Error bad(const std::string& message, const std::string& file = "") {
  return util::Error{util::Error::Kind::invalid_input, message, file, 0, 0};
}

bool loopback(const std::string& host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1" || host.starts_with("127.");
}

/// The host part of a Host header ("127.0.0.1:8765", "[::1]:8765", "localhost").
std::string host_of(const std::string& header) {
  if (header.starts_with("[")) {
    auto end = header.find(']');
    return end == std::string::npos ? header : header.substr(1, end - 1);
  }
  return header.substr(0, header.find(':'));
}

}  // namespace

struct Server::Impl {
  Options options;
  Handler handler;
  httplib::Server http;
  std::thread thread;
  int port = 0;
  std::atomic<bool> stopping{false};
  explicit Impl(const Options& o) : options(o), handler(o) {}
};

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { stop(); }

util::Result<std::unique_ptr<Server>> Server::start(const Options& options) {
  if (!std::filesystem::exists(options.db))
    return util::fail(bad("database not found (run 'kerntune tune RECIPE' first, or pass --db)", options.db));
  // The same read-only open every request makes: fails here, with the store's own message, when it cannot.
  KT_TRY(auto probe, open_store(options));
  if (!options.campaign.empty()) {
    KT_TRY(auto row, probe.find_campaign(options.campaign));
    if (!row) return util::fail(bad(fmt::format("no campaign named '{}' in the database", options.campaign), options.db));
  }
  if (auto js = util::read_file(options.chart_js); !js || js->empty())
    return util::fail(util::Error{util::Error::Kind::io, "cannot read Chart.js (apt-get install libjs-chart.js)",
                                  options.chart_js, 0, 0});
  if (options.port < 0 || options.port > 65535) return util::fail(bad(fmt::format("port {} is not 0 to 65535", options.port)));

  auto impl = std::make_unique<Impl>(options);
  Impl* raw = impl.get();
  auto& http = impl->http;
  const bool local_only = loopback(options.bind);
  // SO_REUSEADDR only: httplib's default also sets SO_REUSEPORT, which would
  // let a second dashboard share a port that is taken instead of failing.
  http.set_socket_options([](int sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  http.set_payload_max_length(64 * 1024);
  http.set_read_timeout(5, 0);
  http.set_write_timeout(5, 0);
  http.set_keep_alive_max_count(100);
  http.set_pre_routing_handler([raw, local_only](const httplib::Request& req, httplib::Response& res) {
    // On a loopback address, only a loopback Host: a page elsewhere cannot
    // reach the dashboard through a DNS name that resolves to 127.0.0.1.
    std::string host = host_of(req.get_header_value("Host"));
    Response r;
    if (local_only && !loopback(host)) {
      r = {421, "application/json", "{\"error\":\"the Host header must name this machine\"}"};
    } else {
      try {
        std::multimap<std::string, std::string> query(req.params.begin(), req.params.end());
        r = raw->handler.handle(req.method, req.path, query);
      } catch (const std::exception& e) {
        r = {500, "application/json", "{\"error\":\"internal error\"}"};
      }
    }
    res.status = r.status;
    res.set_header("Content-Security-Policy", kCsp);
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Referrer-Policy", "no-referrer");
    res.set_header("Cache-Control", "no-store");
    res.set_content(std::move(r.body), r.content_type.c_str());
    return httplib::Server::HandlerResponse::Handled;
  });
  http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    res.status = 500;
    res.set_content("{\"error\":\"internal error\"}", "application/json");
  });
  // httplib's own answers (a malformed request line, a URI over its limit) get a JSON body too.
  http.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty()) res.set_content(fmt::format("{{\"error\":\"HTTP {}\"}}", res.status), "application/json");
  });

  if (options.port == 0) {
    impl->port = http.bind_to_any_port(options.bind);
    if (impl->port < 0) return util::fail(util::Error{util::Error::Kind::io, fmt::format("cannot listen on {}", options.bind), "", 0, 0});
  } else {
    if (!http.bind_to_port(options.bind, options.port))
      return util::fail(util::Error{util::Error::Kind::io,
                                    fmt::format("cannot listen on {}:{} (taken? try --port 0 for a free one)", options.bind, options.port),
                                    "", 0, 0});
    impl->port = options.port;
  }
  impl->thread = std::thread([raw] { raw->http.listen_after_bind(); });
  for (int i = 0; i < 1000 && !http.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

int Server::port() const { return impl_->port; }

std::string Server::url() const {
  const std::string& b = impl_->options.bind;
  std::string host = b.find(':') != std::string::npos ? "[" + b + "]" : b;
  return fmt::format("http://{}:{}/", host, impl_->port);
}

void Server::stop() {
  if (!impl_) return;
  impl_->stopping = true;
  impl_->http.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

void Server::wait(const std::function<bool()>& should_stop) {
  while (!impl_->stopping && impl_->http.is_running() && !(should_stop && should_stop()))
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
}

}  // namespace kerntune::dashboard
