// StaticFiles on a temporary directory, driven without sockets.

#include "net/static_files.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <optional>

#include "net/http_date.h"
#include "net/http_gzip.h"
#include "net/router.h"

namespace chiron::net {
namespace {

namespace fs = std::filesystem;

class StaticFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "chiron_static_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    root_ = dir_ / "root";
    fs::create_directories(root_ / "sub");
    write(root_ / "index.html", "<h1>home</h1>");
    write(root_ / "sub" / "index.html", "<h1>sub</h1>");
    write(root_ / "hello.txt", "0123456789");
    std::string css;
    for (int i = 0; i < 400; ++i) css += "body { color: red; }\n";
    write(root_ / "app.css", css);
    write(root_ / "img.png", std::string(4096, 'p'));
    write(dir_ / "secret.txt", "top secret");
    fs::create_symlink(dir_ / "secret.txt", root_ / "escape.txt");
    files_ = std::make_unique<StaticFiles>(root_.string());
  }
  void TearDown() override { fs::remove_all(dir_); }

  static void write(const fs::path& p, const std::string& content) {
    std::ofstream(p, std::ios::binary) << content;
  }

  Request get(std::string target) {
    Request r;
    r.method = "GET";
    r.target = target;
    r.path = *percent_decode(target.substr(0, target.find('?')));
    return r;
  }
  Response serve(const Request& r) {
    std::string rel = r.path.substr(1);
    return files_->serve(r, rel);
  }

  fs::path dir_;
  fs::path root_;
  std::unique_ptr<StaticFiles> files_;
};

TEST_F(StaticFilesTest, ServesFileWithTypeAndValidators) {
  Response r = serve(get("/hello.txt"));
  EXPECT_EQ(r.status, 200);
  ASSERT_TRUE(r.file_path);
  EXPECT_EQ(r.file_offset, 0u);
  EXPECT_EQ(r.file_length.value_or(0), 10u);
  EXPECT_EQ(r.headers.get("Content-Type").value_or(""), "text/plain; charset=utf-8");
  EXPECT_TRUE(r.headers.has("ETag"));
  EXPECT_TRUE(r.headers.has("Last-Modified"));
  EXPECT_EQ(r.headers.get("Accept-Ranges").value_or(""), "bytes");
  EXPECT_EQ(r.headers.get("Cache-Control").value_or(""), "public, max-age=3600");
}

TEST_F(StaticFilesTest, HtmlIsRevalidated) {
  Response r = serve(get("/index.html"));
  EXPECT_EQ(r.headers.get("Cache-Control").value_or(""), "no-cache");
}

TEST_F(StaticFilesTest, IfNoneMatchGives304) {
  std::string etag(serve(get("/hello.txt")).headers.get("ETag").value());
  Request r = get("/hello.txt");
  r.headers.add("If-None-Match", "\"other\", " + etag);
  Response resp = serve(r);
  EXPECT_EQ(resp.status, 304);
  EXPECT_FALSE(resp.file_path);
  EXPECT_EQ(resp.headers.get("ETag").value_or(""), etag);
}

TEST_F(StaticFilesTest, IfModifiedSinceGives304) {
  std::string lm(serve(get("/hello.txt")).headers.get("Last-Modified").value());
  Request r = get("/hello.txt");
  r.headers.add("If-Modified-Since", lm);
  EXPECT_EQ(serve(r).status, 304);
  Request old = get("/hello.txt");
  old.headers.add("If-Modified-Since", "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(serve(old).status, 200);
}

TEST_F(StaticFilesTest, SingleRangeGives206) {
  Request r = get("/hello.txt");
  r.headers.add("Range", "bytes=2-4");
  Response resp = serve(r);
  EXPECT_EQ(resp.status, 206);
  EXPECT_EQ(resp.headers.get("Content-Range").value_or(""), "bytes 2-4/10");
  EXPECT_EQ(resp.file_offset, 2u);
  EXPECT_EQ(resp.file_length.value_or(0), 3u);
}

TEST_F(StaticFilesTest, SuffixAndOpenRanges) {
  Request r = get("/hello.txt");
  r.headers.add("Range", "bytes=-3");
  Response suffix = serve(r);
  EXPECT_EQ(suffix.headers.get("Content-Range").value_or(""), "bytes 7-9/10");
  Request open = get("/hello.txt");
  open.headers.add("Range", "bytes=8-");
  EXPECT_EQ(serve(open).headers.get("Content-Range").value_or(""), "bytes 8-9/10");
  Request past_end = get("/hello.txt");
  past_end.headers.add("Range", "bytes=5-100");
  EXPECT_EQ(serve(past_end).headers.get("Content-Range").value_or(""), "bytes 5-9/10");
}

TEST_F(StaticFilesTest, UnsatisfiableRangeGives416) {
  Request r = get("/hello.txt");
  r.headers.add("Range", "bytes=10-");
  Response resp = serve(r);
  EXPECT_EQ(resp.status, 416);
  EXPECT_EQ(resp.headers.get("Content-Range").value_or(""), "bytes */10");
}

TEST_F(StaticFilesTest, MultipleOrInvalidRangesGiveWholeFile) {
  Request multi = get("/hello.txt");
  multi.headers.add("Range", "bytes=0-1,4-5");
  EXPECT_EQ(serve(multi).status, 200);
  Request bad = get("/hello.txt");
  bad.headers.add("Range", "lines=1-2");
  EXPECT_EQ(serve(bad).status, 200);
}

TEST_F(StaticFilesTest, StaleIfRangeGivesWholeFile) {
  Request r = get("/hello.txt");
  r.headers.add("Range", "bytes=0-1");
  r.headers.add("If-Range", "\"stale\"");
  EXPECT_EQ(serve(r).status, 200);
}

TEST_F(StaticFilesTest, RefusesTraversal) {
  EXPECT_EQ(files_->serve(get("/x"), "../secret.txt").status, 400);
  EXPECT_EQ(files_->serve(get("/x"), "sub/../../secret.txt").status, 400);
  // "%2e%2e" has been decoded to ".." by the time it reaches serve().
  Request encoded = get("/%2e%2e/secret.txt");
  EXPECT_EQ(encoded.path, "/../secret.txt");
  EXPECT_EQ(serve(encoded).status, 400);
  EXPECT_EQ(serve(get("/sub%2f..%2f..%2fsecret.txt")).status, 400);
  EXPECT_EQ(files_->serve(get("/x"), std::string("hello.txt\0", 10)).status, 400);
}

TEST_F(StaticFilesTest, RefusesSymlinkOutOfRoot) {
  EXPECT_EQ(serve(get("/escape.txt")).status, 404);
}

TEST_F(StaticFilesTest, MissingFileIs404Json) {
  Response r = serve(get("/nope.txt"));
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("not_found"), std::string::npos);
}

TEST_F(StaticFilesTest, DirectoryServesIndexOrRedirects) {
  Response root = serve(get("/"));
  EXPECT_EQ(root.status, 200);
  EXPECT_TRUE(root.file_path->ends_with("root/index.html"));
  Response redirect = serve(get("/sub"));
  EXPECT_EQ(redirect.status, 301);
  EXPECT_EQ(redirect.headers.get("Location").value_or(""), "/sub/");
  EXPECT_TRUE(serve(get("/sub/")).file_path->ends_with("sub/index.html"));
}

TEST_F(StaticFilesTest, GzipsCompressibleFilesWhenAccepted) {
  Request r = get("/app.css");
  r.headers.add("Accept-Encoding", "gzip, br");
  Response resp = serve(r);
  EXPECT_EQ(resp.status, 200);
  EXPECT_EQ(resp.headers.get("Content-Encoding").value_or(""), "gzip");
  EXPECT_EQ(resp.headers.get("Vary").value_or(""), "Accept-Encoding");
  EXPECT_FALSE(resp.file_path);
  auto plain = gzip_decompress(resp.body);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->size(), fs::file_size(root_ / "app.css"));
  EXPECT_TRUE(std::string(resp.headers.get("ETag").value()).ends_with("-gz\""));
}

TEST_F(StaticFilesTest, SkipsGzipForImagesSmallFilesAndNonAcceptingClients) {
  Request png = get("/img.png");
  png.headers.add("Accept-Encoding", "gzip");
  EXPECT_FALSE(serve(png).headers.has("Content-Encoding"));
  Request small = get("/hello.txt");
  small.headers.add("Accept-Encoding", "gzip");
  EXPECT_FALSE(serve(small).headers.has("Content-Encoding"));
  EXPECT_FALSE(serve(get("/app.css")).headers.has("Content-Encoding"));
}

TEST_F(StaticFilesTest, MountsOnRouterWithHeadAndIndex) {
  Router router;
  router.get("/api/v1/health", [](const Request&) { return Response::json(200, "{}"); });
  router.static_dir("/", root_.string());
  auto run = [&](std::string method, std::string target) {
    Request req = get(target);
    req.method = method;
    std::optional<Response> out;
    router.handle(std::move(req), Responder::from_callback([&](Response r) { out = std::move(r); }));
    return std::move(*out);
  };
  EXPECT_EQ(run("GET", "/api/v1/health").status, 200);
  EXPECT_TRUE(run("GET", "/").file_path->ends_with("index.html"));
  EXPECT_EQ(run("HEAD", "/hello.txt").status, 200);
  EXPECT_EQ(run("GET", "/missing.js").status, 404);
  EXPECT_EQ(run("POST", "/hello.txt").status, 405);
}

}  // namespace
}  // namespace chiron::net
