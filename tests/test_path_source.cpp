// PathSource: operand order, sorted depth-first walks, symlinks, stdin lists.
#include <gtest/gtest.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <errno.h>
#include <grp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "path_source.hpp"

namespace {

namespace fs = std::filesystem;

using Items = std::vector<std::pair<std::string, std::string>>;  // path, error

/// Drains a source. Errors are compared by prefix: "read: is a directory" etc.
Items drain(hm::PathSource& source, size_t limit = 10000) {
  Items items;
  hm::SourceItem item;
  while (items.size() < limit && source.next(item)) items.emplace_back(item.path, item.error);
  EXPECT_LT(items.size(), limit) << "source does not end";
  hm::SourceItem after;
  EXPECT_FALSE(source.next(after)) << "next() after the end must stay false";
  return items;
}

Items run(std::vector<std::string> operands, bool recursive, const std::string& stdin_bytes = "",
          char delimiter = '\n') {
  std::string buffer = stdin_bytes;
  FILE* in = nullptr;
  if (!buffer.empty()) {
    in = fmemopen(buffer.data(), buffer.size(), "r");
    EXPECT_NE(in, nullptr);
  } else {
    in = fopen("/dev/null", "r");
  }
  hm::SourceOptions options;
  options.recursive = recursive;
  options.stdin_delimiter = delimiter;
  Items items;
  {
    hm::PathSource source(std::move(operands), options, in);
    items = drain(source);
  }
  if (in) fclose(in);
  return items;
}

std::string paths_of(const Items& items) {
  std::string s;
  for (const auto& [p, e] : items) s += p + (e.empty() ? "" : " [" + e + "]") + "\n";
  return s;
}

void expect_paths(const Items& got, const std::vector<std::string>& want) {
  std::vector<std::string> paths;
  for (const auto& it : got) paths.push_back(it.first);
  EXPECT_EQ(paths, want) << paths_of(got);
}

/// Walks `top` recursively in a child running as nobody (uid/gid 65534);
/// items come back over a pipe as "path\0error\0" pairs. False with a reason
/// when the child cannot drop privileges or still reads mode-000 directories.
bool walk_as_nobody(const std::string& top, Items& items, std::string& why) {
  int fds[2];
  if (pipe(fds) != 0) return why = "pipe", false;
  const pid_t pid = fork();
  if (pid < 0) return why = "fork", false;
  if (pid == 0) {
    close(fds[0]);
    if (setgroups(0, nullptr) != 0 || setgid(65534) != 0 || setuid(65534) != 0) _exit(3);
    if (access(top.c_str(), R_OK | X_OK) != 0) _exit(6);  // cannot reach the tree
    if (DIR* d = opendir((top + "/locked").c_str())) {
      closedir(d);
      _exit(4);
    }
    FILE* null_in = fopen("/dev/null", "r");
    hm::PathSource source({top}, hm::SourceOptions{true, '\n'}, null_in);
    hm::SourceItem item;
    std::string out;
    while (source.next(item)) {
      out += item.path;
      out.push_back('\0');
      out += item.error;
      out.push_back('\0');
    }
    for (size_t done = 0; done < out.size();) {
      const ssize_t n = write(fds[1], out.data() + done, out.size() - done);
      if (n <= 0) _exit(5);
      done += (size_t)n;
    }
    _exit(0);
  }
  close(fds[1]);
  std::string data;
  char buf[4096];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) != 0;) {
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    data.append(buf, (size_t)n);
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    why = "child status " + std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return false;
  }
  std::vector<std::string> parts;
  for (size_t start = 0, nul; (nul = data.find('\0', start)) != std::string::npos; start = nul + 1)
    parts.push_back(data.substr(start, nul - start));
  for (size_t i = 0; i + 1 < parts.size(); i += 2) items.emplace_back(parts[i], parts[i + 1]);
  return true;
}

class PathSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = getenv("TMPDIR");
    std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/hm_path_source_XXXXXX";
    ASSERT_NE(mkdtemp(templ.data()), nullptr) << "mkdtemp failed";
    root_ = templ;
  }
  void TearDown() override {
    if (root_.empty()) return;
    // Restore permissions of anything made unreadable, then remove (links not followed).
    std::error_code ec;
    for (const auto& d : chmodded_) chmod(d.c_str(), 0755);
    fs::remove_all(root_, ec);
    EXPECT_FALSE(ec) << ec.message();
  }

  std::string p(const std::string& rel) const { return root_ + "/" + rel; }
  void file(const std::string& rel, const std::string& content = "x") {
    FILE* f = fopen(p(rel).c_str(), "w");
    ASSERT_NE(f, nullptr) << rel;
    fputs(content.c_str(), f);
    fclose(f);
  }
  void dir(const std::string& rel) { ASSERT_EQ(mkdir(p(rel).c_str(), 0755), 0) << rel; }
  void link(const std::string& target, const std::string& rel) {
    ASSERT_EQ(symlink(target.c_str(), p(rel).c_str()), 0) << rel;
  }

  /// tree/ with names whose byte order differs from a locale's order.
  void build_tree() {
    dir("tree");
    file("tree/a.jpg");
    file("tree/B.jpg");
    file("tree/10.jpg");
    file("tree/9.jpg");
    file("tree/_under.png");
    file("tree/z.jpg");
    file("tree/\xc3\xa9t\xc3\xa9.gif");  // UTF-8 sorts after ASCII in byte order
    dir("tree/Z");
    file("tree/Z/c.bmp");
    dir("tree/empty");
    dir("tree/sub");
    file("tree/sub/file.txt");
    dir("tree/sub/inner");
    file("tree/sub/inner/deep.png");
    link("..", "tree/sub/loop");           // loop back to tree/
    link("../a.jpg", "tree/sub/tofile");   // link to a file
    link("nowhere", "tree/sub/dangling");  // broken link
  }

  std::vector<std::string> tree_order(const std::string& top) const {
    return {top + "/10.jpg",          top + "/9.jpg",           top + "/B.jpg",
            top + "/Z/c.bmp",         top + "/_under.png",      top + "/a.jpg",
            top + "/sub/dangling",    top + "/sub/file.txt",    top + "/sub/inner/deep.png",
            top + "/sub/loop",        top + "/sub/tofile",      top + "/z.jpg",
            top + "/\xc3\xa9t\xc3\xa9.gif"};
  }

  std::string root_;
  std::vector<std::string> chmodded_;
};

TEST_F(PathSourceTest, OperandsInCommandLineOrder) {
  file("b");
  file("a");
  const Items items = run({p("b"), p("a"), p("b")}, false);
  expect_paths(items, {p("b"), p("a"), p("b")});
  for (const auto& it : items) EXPECT_EQ(it.second, "");
}

TEST_F(PathSourceTest, NoOperandsNoItems) { EXPECT_TRUE(run({}, true).empty()); }

TEST_F(PathSourceTest, NonexistentPathsAreYielded) {
  file("real");
  const Items items = run({p("missing"), p("real"), p("no/such/dir/file")}, true);
  expect_paths(items, {p("missing"), p("real"), p("no/such/dir/file")});
  for (const auto& it : items) EXPECT_EQ(it.second, "") << "the hasher reports missing files";
}

TEST_F(PathSourceTest, RecursiveWalkIsSortedByBytesDepthFirst) {
  build_tree();
  const Items items = run({p("tree")}, true);
  expect_paths(items, tree_order(p("tree")));
  for (const auto& it : items) {
    if (it.first == p("tree/sub/loop"))
      EXPECT_EQ(it.second, "read: symbolic link to a directory, not followed");
    else
      EXPECT_EQ(it.second, "") << it.first;
  }
}

TEST_F(PathSourceTest, TrailingSlashOperandJoinsCleanly) {
  build_tree();
  expect_paths(run({p("tree") + "/"}, true), tree_order(p("tree")));
}

TEST_F(PathSourceTest, SymlinkLoopIsNotFollowed) {
  build_tree();
  const Items items = run({p("tree")}, true);
  for (const auto& it : items)
    EXPECT_EQ(it.first.find("/loop/"), std::string::npos) << "descended into the loop: " << it.first;
  // The link to a file is yielded as its own path (the hasher follows it).
  size_t tofile = 0;
  for (const auto& it : items) tofile += it.first == p("tree/sub/tofile");
  EXPECT_EQ(tofile, 1u);
}

TEST_F(PathSourceTest, SymlinkToDirectoryOperandIsFollowed) {
  dir("real");
  file("real/x");
  link("real", "alias");
  expect_paths(run({p("alias")}, true), {p("alias/x")});
}

TEST_F(PathSourceTest, DirectoryWithoutRecursive) {
  build_tree();
  file("single");
  const Items items = run({p("single"), p("tree"), p("single")}, false);
  ASSERT_EQ(items.size(), 3u) << paths_of(items);
  EXPECT_EQ(items[0], std::make_pair(p("single"), std::string()));
  EXPECT_EQ(items[1].first, p("tree"));
  EXPECT_EQ(items[1].second.rfind("read: is a directory", 0), 0u) << items[1].second;
  EXPECT_EQ(items[2], std::make_pair(p("single"), std::string()));
}

TEST_F(PathSourceTest, EmptyDirectoryYieldsNothing) {
  dir("empty");
  EXPECT_TRUE(run({p("empty")}, true).empty());
}

TEST_F(PathSourceTest, SeveralDirectoryOperandsStayInOrder) {
  dir("b");
  file("b/2");
  file("b/1");
  dir("a");
  file("a/1");
  file("loose");
  expect_paths(run({p("b"), p("loose"), p("a")}, true), {p("b/1"), p("b/2"), p("loose"), p("a/1")});
}

TEST_F(PathSourceTest, UnreadableDirectoryIsAnErrorItem) {
  dir("top");
  file("top/a");
  dir("top/locked");
  file("top/locked/secret");
  file("top/z");
  ASSERT_EQ(chmod(p("top/locked").c_str(), 0), 0);
  chmodded_.push_back(p("top/locked"));
  Items items;
  if (DIR* d = opendir(p("top/locked").c_str())) {
    closedir(d);
    // Root ignores mode 000. Drop to an unprivileged user in a child process
    // and walk there; skip (never pass silently) when that is not possible.
    std::string why;
    chmod(root_.c_str(), 0755);  // mkdtemp made it 0700
    if (!walk_as_nobody(p("top"), items, why))
      GTEST_SKIP() << "mode 000 does not stop this process (root / CAP_DAC_READ_SEARCH) and "
                      "dropping privileges failed ("
                   << why << "): cannot test an unreadable directory here";
  } else {
    items = run({p("top")}, true);
  }
  ASSERT_EQ(items.size(), 3u) << paths_of(items);
  EXPECT_EQ(items[0], std::make_pair(p("top/a"), std::string()));
  EXPECT_EQ(items[1].first, p("top/locked"));
  EXPECT_EQ(items[1].second.rfind("read: cannot list directory", 0), 0u) << items[1].second;
  EXPECT_EQ(items[2], std::make_pair(p("top/z"), std::string()));
}

TEST_F(PathSourceTest, StdinNewlineList) {
  const Items items = run({"-"}, false, "one\ntwo\r\n\n\r\nthree with space\nlast-no-newline");
  expect_paths(items, {"one", "two", "three with space", "last-no-newline"});
  for (const auto& it : items) EXPECT_EQ(it.second, "");
}

TEST_F(PathSourceTest, StdinNulList) {
  const char raw[] = "a\nb\0c\r\0\0with space\0";
  const std::string input(raw, sizeof raw - 1);
  // With '\0', newlines and CRs are part of the names; empty names skipped.
  expect_paths(run({"-"}, false, input, '\0'), {"a\nb", "c\r", "with space"});
}

TEST_F(PathSourceTest, StdinNulListWithoutTrailingNul) {
  expect_paths(run({"-"}, false, std::string("x\0y", 3), '\0'), {"x", "y"});
}

TEST_F(PathSourceTest, StdinEmpty) { EXPECT_TRUE(run({"-"}, true, "").empty()); }

TEST_F(PathSourceTest, StdinMixedWithOperandsKeepsOrder) {
  file("first");
  file("last");
  const Items items = run({p("first"), "-", p("last")}, false, "s1\ns2\n");
  expect_paths(items, {p("first"), "s1", "s2", p("last")});
}

TEST_F(PathSourceTest, StdinDirectoriesAreExpandedInPlace) {
  dir("d");
  file("d/y");
  file("d/x");
  file("f");
  const Items items = run({"-", p("f")}, true, p("d") + "\n" + p("f") + "\n");
  expect_paths(items, {p("d/x"), p("d/y"), p("f"), p("f")});
  // Without -r the directory is an error item.
  const Items flat = run({"-"}, false, p("d") + "\n");
  ASSERT_EQ(flat.size(), 1u);
  EXPECT_EQ(flat[0].second.rfind("read: is a directory", 0), 0u);
}

TEST_F(PathSourceTest, LongStdinPaths) {
  std::string a(5000, 'a'), b(3, 'b');
  expect_paths(run({"-"}, false, a + "\n" + b + "\n"), {a, b});
}

}  // namespace
