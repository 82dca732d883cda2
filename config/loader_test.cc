#include "config/loader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "config/test_files.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ocicni::config {
namespace {

using testfiles::Conf;
using testfiles::ConfList;
using testfiles::MakeDir;
using testfiles::MakeTempDir;
using testfiles::WriteFile;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::vector<std::string> NetworkNames(const Snapshot& snapshot) {
  std::vector<std::string> names;
  for (const NetworkConfigList& n : snapshot.networks())
    names.push_back(n.name);
  return names;
}

std::vector<std::string> FileNames(const Snapshot& snapshot) {
  std::vector<std::string> names;
  for (const ConfigFile& f : snapshot.files()) {
    names.push_back(f.path.substr(f.path.rfind('/') + 1));
  }
  return names;
}

const ConfigFile* FindFile(const Snapshot& snapshot, absl::string_view name) {
  for (const ConfigFile& f : snapshot.files()) {
    if (absl::EndsWith(f.path, absl::StrCat("/", name))) return &f;
  }
  return nullptr;
}

TEST(ListConfigFilesTest, ExactExtensionsSortedByteWiseNoDirectories) {
  std::string dir = MakeTempDir("list");
  for (const char* name :
       {"b.conf", "a.conflist", "B.json", "10-x.conf", "9-x.conf", "x.CONF",
        "x.conflist.bak", "x.conf~", "README", "conf", ".conf"}) {
    WriteFile(absl::StrCat(dir, "/", name), "{}");
  }
  MakeDir(dir + "/sub.conf");
  MakeDir(dir + "/real-dir");
  ASSERT_EQ(symlink("real-dir", (dir + "/link.conflist").c_str()), 0);

  bool exists = false;
  absl::StatusOr<std::vector<std::string>> files =
      ListConfigFiles(dir, {".conf", ".conflist", ".json"}, &exists);
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_TRUE(exists);
  std::vector<std::string> expected;
  for (const char* name :
       {".conf", "10-x.conf", "9-x.conf", "B.json", "a.conflist", "b.conf"}) {
    expected.push_back(absl::StrCat(dir, "/", name));
  }
  EXPECT_EQ(*files, expected);
}

TEST(ListConfigFilesTest, MissingDirIsEmpty) {
  bool exists = true;
  absl::StatusOr<std::vector<std::string>> files =
      ListConfigFiles(MakeTempDir("missing") + "/nope", {".conf"}, &exists);
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_THAT(*files, IsEmpty());
  EXPECT_FALSE(exists);
}

TEST(ReadConfigFileTest, ReadsRegularFilesUpToTheLimit) {
  std::string dir = MakeTempDir("read");
  WriteFile(dir + "/ok", "hello");
  absl::StatusOr<std::string> bytes = ReadConfigFile(dir + "/ok");
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_EQ(*bytes, "hello");

  WriteFile(dir + "/exact", std::string(16, 'x'));
  EXPECT_TRUE(ReadConfigFile(dir + "/exact", 16).ok());
  absl::StatusOr<std::string> big = ReadConfigFile(dir + "/exact", 15);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(big.status().message(),
            dir + "/exact: larger than the 15-byte limit");

  WriteFile(dir + "/empty", "");
  bytes = ReadConfigFile(dir + "/empty");
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_EQ(*bytes, "");

  absl::StatusOr<std::string> missing = ReadConfigFile(dir + "/missing");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
}

// A conf dir full of things that must neither hang nor eat memory, next to
// good files that must still load.
class HostileFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("hostile");
    WriteFile(dir_ + "/10-good.conflist", ConfList("good"));
    ASSERT_EQ(mkfifo((dir_ + "/20-fifo.conflist").c_str(), 0644), 0);
    ASSERT_EQ(symlink("/dev/zero", (dir_ + "/30-zero.conflist").c_str()), 0);
    int fd = open((dir_ + "/40-huge.conflist").c_str(),
                  O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(ftruncate(fd, off_t{1} << 30), 0);  // 1 GiB, sparse
    close(fd);
    WriteFile(dir_ + "/50-unreadable.conflist", ConfList("unreadable"));
    ASSERT_EQ(chmod((dir_ + "/50-unreadable.conflist").c_str(), 0), 0);
    ASSERT_EQ(symlink("nowhere", (dir_ + "/60-dangling.conf").c_str()), 0);
    ASSERT_EQ(symlink("70-loop.conf", (dir_ + "/70-loop.conf").c_str()), 0);
    MakeDir(dir_ + "/80-subdir.conf");
    WriteFile(dir_ + "/80-subdir.conf/inner.conflist", ConfList("inner"));
    WriteFile(dir_ + "/90-garbage.conflist", std::string("\0\xff{[", 4));
    WriteFile(dir_ + "/95-good.conf", Conf("good2"));
  }

  std::string dir_;
};

TEST_F(HostileFilesTest, GoodFilesLoadAndEveryBadOneSaysWhy) {
  // Root (CAP_DAC_OVERRIDE) reads a mode-000 file anyway; check its
  // rejection only where it really is unreadable. (Open failures are covered
  // either way by the dangling symlink and the symlink loop.)
  const std::string unreadable_path = dir_ + "/50-unreadable.conflist";
  const bool readable = access(unreadable_path.c_str(), R_OK) == 0;

  std::shared_ptr<const Snapshot> snapshot = LoadDirs({dir_}, LoadOptions());
  if (readable) {
    EXPECT_THAT(NetworkNames(*snapshot),
                ElementsAre("good", "unreadable", "good2"));
  } else {
    EXPECT_THAT(NetworkNames(*snapshot), ElementsAre("good", "good2"));
  }
  EXPECT_THAT(
      FileNames(*snapshot),
      ElementsAre("10-good.conflist", "20-fifo.conflist", "30-zero.conflist",
                  "40-huge.conflist", "50-unreadable.conflist",
                  "60-dangling.conf", "70-loop.conf", "90-garbage.conflist",
                  "95-good.conf"));

  auto expect_invalid = [&](absl::string_view name, absl::StatusCode code,
                            absl::string_view reason) {
    const ConfigFile* file = FindFile(*snapshot, name);
    ASSERT_NE(file, nullptr) << name;
    EXPECT_EQ(file->state, FileState::kInvalid) << name;
    EXPECT_EQ(file->error.code(), code) << name << ": " << file->error;
    EXPECT_THAT(std::string(file->error.message()),
                AllOf(HasSubstr(file->path), HasSubstr(reason)));
  };
  expect_invalid("20-fifo.conflist", absl::StatusCode::kInvalidArgument,
                 "not a regular file (a FIFO)");
  expect_invalid("30-zero.conflist", absl::StatusCode::kInvalidArgument,
                 "not a regular file (a character device)");
  expect_invalid("40-huge.conflist", absl::StatusCode::kInvalidArgument,
                 "larger than the 1048576-byte limit");
  expect_invalid("60-dangling.conf", absl::StatusCode::kNotFound, "");
  expect_invalid("70-loop.conf", absl::StatusCode::kInvalidArgument, "");
  expect_invalid("90-garbage.conflist", absl::StatusCode::kInvalidArgument,
                 "invalid JSON");

  if (!readable) {
    expect_invalid("50-unreadable.conflist",
                   absl::StatusCode::kPermissionDenied, "");
  }

  absl::StatusOr<const NetworkConfigList*> def = snapshot->Default();
  ASSERT_TRUE(def.ok()) << def.status();
  EXPECT_EQ((*def)->name, "good");
}

TEST(LoadDirsTest, MissingDirMeansNoNetworks) {
  std::string dir = MakeTempDir("missing") + "/net.d";
  std::shared_ptr<const Snapshot> snapshot = LoadDirs({dir}, LoadOptions());
  ASSERT_EQ(snapshot->dirs().size(), 1u);
  EXPECT_EQ(snapshot->dirs()[0].path, dir);
  EXPECT_FALSE(snapshot->dirs()[0].exists);
  EXPECT_TRUE(snapshot->dirs()[0].error.ok());
  EXPECT_THAT(snapshot->files(), IsEmpty());
  EXPECT_THAT(snapshot->networks(), IsEmpty());
  absl::StatusOr<const NetworkConfigList*> def = snapshot->Default();
  EXPECT_EQ(def.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(def.status().message()),
              HasSubstr("no valid network configuration in " + dir));
}

TEST(LoadDirsTest, ADirThatIsAFileIsReported) {
  std::string file = MakeTempDir("notdir") + "/net.d";
  WriteFile(file, "x");
  std::shared_ptr<const Snapshot> snapshot = LoadDirs({file}, LoadOptions());
  ASSERT_EQ(snapshot->dirs().size(), 1u);
  EXPECT_FALSE(snapshot->dirs()[0].error.ok());
  EXPECT_THAT(std::string(snapshot->dirs()[0].error.message()),
              HasSubstr(file));
}

TEST(LoadDirsTest, DirsInOrderGivenFilesSortedWithinEach) {
  std::string a = MakeTempDir("a");
  std::string b = MakeTempDir("b");
  WriteFile(b + "/00-first-in-b.conflist", ConfList("b0"));
  WriteFile(a + "/20-a.conflist", ConfList("a20"));
  WriteFile(a + "/10-a.conf", Conf("a10"));
  WriteFile(a + "/15-a.json", Conf("a15"));
  std::shared_ptr<const Snapshot> snapshot = LoadDirs({a, b}, LoadOptions());
  EXPECT_THAT(NetworkNames(*snapshot), ElementsAre("a10", "a15", "a20", "b0"));
  EXPECT_EQ((*snapshot->Default())->name, "a10");
  ASSERT_EQ(snapshot->dirs().size(), 2u);
  EXPECT_TRUE(snapshot->dirs()[0].exists);
  EXPECT_TRUE(snapshot->dirs()[1].exists);
}

TEST(LoadDirsTest, ConfIsUpConverted) {
  std::string dir = MakeTempDir("conf");
  const std::string conf =
      R"({"cniVersion":"1.0.0","name":"one","type":"bridge","isGateway":true})";
  WriteFile(dir + "/10-one.conf", conf);
  WriteFile(dir + "/20-two.json", Conf("two", "macvlan"));
  std::shared_ptr<const Snapshot> snapshot = LoadDirs({dir}, LoadOptions());
  const NetworkConfigList* one = snapshot->Find("one");
  ASSERT_NE(one, nullptr);
  EXPECT_EQ(one->bytes, conf);
  EXPECT_EQ(one->path, dir + "/10-one.conf");
  EXPECT_EQ(one->Bytes(),
            R"({"cniVersion":"1.0.0","name":"one","plugins":[{"cniVersion":)"
            R"("1.0.0","isGateway":true,"name":"one","type":"bridge"}]})");
  const NetworkConfigList* two = snapshot->Find("two");
  ASSERT_NE(two, nullptr);
  ASSERT_EQ(two->plugins.size(), 1u);
  EXPECT_EQ(two->plugins[0].type, "macvlan");
  EXPECT_EQ(snapshot->Find("three"), nullptr);
}

TEST(LoadDirsTest, ConflistSavedAsConfSaysSo) {
  std::string dir = MakeTempDir("wrongext");
  WriteFile(dir + "/10-list.conf", ConfList("list"));
  std::shared_ptr<const Snapshot> snapshot = LoadDirs({dir}, LoadOptions());
  ASSERT_EQ(snapshot->files().size(), 1u);
  EXPECT_EQ(snapshot->files()[0].state, FileState::kInvalid);
  EXPECT_THAT(
      std::string(snapshot->files()[0].error.message()),
      AllOf(HasSubstr(dir + "/10-list.conf"), HasSubstr("wrong extension")));
}

TEST(LoadDirsTest, DuplicatesFirstWinsLaterShadowed) {
  std::string dir = MakeTempDir("dup");
  // An invalid file does not claim its name.
  WriteFile(dir + "/05-broken.conflist",
            R"({"name":"x","plugins":[{"type":"a/b"}]})");
  WriteFile(dir + "/10-x.conflist", ConfList("x", "first"));
  WriteFile(dir + "/20-x.conf", Conf("x", "second"));
  WriteFile(dir + "/30-y.conflist", ConfList("y"));
  WriteFile(dir + "/40-x.conflist", ConfList("x", "third"));
  std::shared_ptr<const Snapshot> snapshot = LoadDirs({dir}, LoadOptions());
  EXPECT_THAT(NetworkNames(*snapshot), ElementsAre("x", "y"));
  EXPECT_EQ(snapshot->Find("x")->plugins[0].type, "first");

  EXPECT_EQ(FindFile(*snapshot, "05-broken.conflist")->state,
            FileState::kInvalid);
  // It still says which network it meant.
  EXPECT_EQ(FindFile(*snapshot, "05-broken.conflist")->network, "x");
  for (const char* name : {"20-x.conf", "40-x.conflist"}) {
    const ConfigFile* f = FindFile(*snapshot, name);
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->state, FileState::kShadowed) << name;
    EXPECT_EQ(f->network, "x");
    EXPECT_EQ(f->shadowed_by, dir + "/10-x.conflist");
  }
  EXPECT_THAT(snapshot->DebugString(), HasSubstr("40-x.conflist: shadowed by " +
                                                 dir + "/10-x.conflist"));
}

TEST(LoadDirsTest, DuplicatesAcrossDirs) {
  std::string a = MakeTempDir("a");
  std::string b = MakeTempDir("b");
  WriteFile(a + "/99-x.conflist", ConfList("x", "from-a"));
  WriteFile(b + "/00-x.conflist", ConfList("x", "from-b"));
  std::shared_ptr<const Snapshot> snapshot = LoadDirs({a, b}, LoadOptions());
  EXPECT_EQ(snapshot->Find("x")->plugins[0].type, "from-a");
  EXPECT_EQ(snapshot->files()[1].state, FileState::kShadowed);
}

TEST(LoadDirsTest, DefaultNetwork) {
  std::string dir = MakeTempDir("default");
  WriteFile(dir + "/10-a.conflist", ConfList("a"));
  WriteFile(dir + "/20-b.conflist", ConfList("b"));
  WriteFile(dir + "/30-c.conflist", R"({"name":"c","plugins":[]})");

  LoadOptions options;
  EXPECT_EQ((*LoadDirs({dir}, options)->Default())->name, "a");

  options.default_network = "b";
  EXPECT_EQ((*LoadDirs({dir}, options)->Default())->name, "b");

  options.default_network = "zzz";
  absl::StatusOr<const NetworkConfigList*> def =
      LoadDirs({dir}, options)->Default();
  EXPECT_EQ(def.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(def.status().message()),
              AllOf(HasSubstr("default network \"zzz\" is not loaded"),
                    HasSubstr("no config file in " + dir + " defines it")));

  // The validator rejects "b": the reason shows in the default's error.
  options.default_network = "b";
  options.validator = [](const NetworkConfigList& list) {
    return list.name == "b" ? absl::FailedPreconditionError(
                                  "plugin bridge not found in /opt/cni/bin")
                            : absl::OkStatus();
  };
  def = LoadDirs({dir}, options)->Default();
  EXPECT_EQ(def.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(def.status().message()),
              AllOf(HasSubstr("default network \"b\" is not loaded"),
                    HasSubstr(dir + "/20-b.conflist"),
                    HasSubstr("plugin bridge not found")));
}

TEST(LoadDirsTest, ValidatorFailureMarksTheFileAndFreesTheName) {
  std::string dir = MakeTempDir("validator");
  WriteFile(dir + "/10-a.conflist", ConfList("a", "missing-plugin"));
  WriteFile(dir + "/20-a.conflist", ConfList("a", "bridge"));
  WriteFile(dir + "/30-b.conflist", ConfList("b", "bridge"));
  std::vector<std::string> validated;
  LoadOptions options;
  options.validator = [&](const NetworkConfigList& list) {
    validated.push_back(list.path.substr(list.path.rfind('/') + 1));
    return list.plugins[0].type == "missing-plugin"
               ? absl::NotFoundError("plugin missing-plugin not found")
               : absl::OkStatus();
  };
  std::shared_ptr<const Snapshot> snapshot = LoadDirs({dir}, options);
  EXPECT_THAT(validated,
              ElementsAre("10-a.conflist", "20-a.conflist", "30-b.conflist"));
  EXPECT_THAT(NetworkNames(*snapshot), ElementsAre("a", "b"));
  EXPECT_EQ(snapshot->Find("a")->path, dir + "/20-a.conflist");
  const ConfigFile& rejected = snapshot->files()[0];
  EXPECT_EQ(rejected.state, FileState::kInvalid);
  EXPECT_EQ(rejected.network, "a");
  EXPECT_EQ(rejected.error.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(rejected.error.message(),
            dir +
                "/10-a.conflist: network \"a\": plugin missing-plugin not "
                "found");
}

TEST(LoadDirsTest, ShadowedNetworksAreNotValidated) {
  std::string dir = MakeTempDir("validator");
  WriteFile(dir + "/10-a.conflist", ConfList("a"));
  WriteFile(dir + "/20-a.conflist", ConfList("a"));
  int calls = 0;
  LoadOptions options;
  options.validator = [&](const NetworkConfigList&) {
    ++calls;
    return absl::OkStatus();
  };
  LoadDirs({dir}, options);
  EXPECT_EQ(calls, 1);
}

TEST(LoadDirsTest, PluginConfsFromTheNetworkSubdir) {
  std::string dir = MakeTempDir("subdir");
  WriteFile(dir + "/10-pods.conflist", ConfList("pods", "bridge"));
  MakeDir(dir + "/pods");
  WriteFile(dir + "/pods/20-portmap.conf", R"({"type":"portmap"})");
  WriteFile(dir + "/pods/10-tuning.conf", R"({"type":"tuning","mtu":9000})");
  WriteFile(dir + "/pods/30-ignored.json", R"({"type":"ignored"})");
  // Only plugins in a list with no inline ones.
  WriteFile(dir + "/20-bare.conflist",
            R"({"cniVersion":"1.0.0","name":"bare"})");
  MakeDir(dir + "/bare");
  WriteFile(dir + "/bare/1.conf", R"({"type":"macvlan"})");
  // loadOnlyInlinedPlugins: the subdir is not read.
  WriteFile(dir + "/30-inl.conflist",
            R"({"name":"inl","loadOnlyInlinedPlugins":true,)"
            R"("plugins":[{"type":"a"}]})");
  MakeDir(dir + "/inl");
  WriteFile(dir + "/inl/1.conf", R"({"type":"never"})");
  // No inline plugins and no subdir.
  WriteFile(dir + "/40-empty.conflist", R"({"name":"empty"})");

  std::shared_ptr<const Snapshot> snapshot = LoadDirs({dir}, LoadOptions());
  const NetworkConfigList* pods = snapshot->Find("pods");
  ASSERT_NE(pods, nullptr);
  std::vector<std::string> types;
  for (const PluginConfig& p : pods->plugins) types.push_back(p.type);
  EXPECT_THAT(types, ElementsAre("bridge", "tuning", "portmap"));
  EXPECT_EQ(pods->plugins[1].conf.fields().at("mtu").number_value(), 9000);
  // The cached bytes stay the file's bytes.
  EXPECT_EQ(pods->Bytes(), ConfList("pods", "bridge"));

  ASSERT_NE(snapshot->Find("bare"), nullptr);
  EXPECT_EQ(snapshot->Find("bare")->plugins.size(), 1u);
  ASSERT_NE(snapshot->Find("inl"), nullptr);
  EXPECT_EQ(snapshot->Find("inl")->plugins[0].type, "a");
  EXPECT_EQ(snapshot->Find("inl")->plugins.size(), 1u);

  const ConfigFile* empty = FindFile(*snapshot, "40-empty.conflist");
  ASSERT_NE(empty, nullptr);
  EXPECT_EQ(empty->state, FileState::kInvalid);
  EXPECT_EQ(empty->error.message(),
            dir + "/40-empty.conflist: no plugin configs found");

  EXPECT_THAT(snapshot->plugin_conf_dirs(),
              ElementsAre(dir + "/pods", dir + "/bare"));
}

TEST(LoadDirsTest, BrokenPluginConfFailsTheListNamingBothFiles) {
  std::string dir = MakeTempDir("subdir");
  WriteFile(dir + "/10-pods.conflist", ConfList("pods"));
  MakeDir(dir + "/pods");
  WriteFile(dir + "/pods/1.conf", R"({"mtu":1})");
  ASSERT_EQ(mkfifo((dir + "/pods/2.conf").c_str(), 0644), 0);
  std::shared_ptr<const Snapshot> snapshot = LoadDirs({dir}, LoadOptions());
  EXPECT_THAT(snapshot->networks(), IsEmpty());
  ASSERT_EQ(snapshot->files().size(), 1u);
  EXPECT_EQ(
      snapshot->files()[0].error.message(),
      dir + "/10-pods.conflist: " + dir + "/pods/1.conf: missing \"type\"");
  // The broken subdir is still one to watch.
  EXPECT_THAT(snapshot->plugin_conf_dirs(), ElementsAre(dir + "/pods"));

  testfiles::RemoveAll(dir + "/pods/1.conf");
  snapshot = LoadDirs({dir}, LoadOptions());
  EXPECT_THAT(std::string(snapshot->files()[0].error.message()),
              HasSubstr(dir + "/pods/2.conf: not a regular file (a FIFO)"));
}

TEST(LoadDirsTest, SmallerSizeLimit) {
  std::string dir = MakeTempDir("limit");
  WriteFile(dir + "/10-a.conflist", ConfList("a"));
  LoadOptions options;
  options.max_file_size = 10;
  std::shared_ptr<const Snapshot> snapshot = LoadDirs({dir}, options);
  EXPECT_THAT(snapshot->networks(), IsEmpty());
  EXPECT_THAT(std::string(snapshot->files()[0].error.message()),
              HasSubstr("larger than the 10-byte limit"));
}

TEST(LoadConfigFileTest, LoadsOneFileByExtension) {
  std::string dir = MakeTempDir("one");
  WriteFile(dir + "/a.conflist", ConfList("a"));
  WriteFile(dir + "/b.conf", Conf("b"));
  absl::StatusOr<NetworkConfigList> a = LoadConfigFile(dir + "/a.conflist");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->name, "a");
  absl::StatusOr<NetworkConfigList> b = LoadConfigFile(dir + "/b.conf");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_FALSE(b->converted_bytes.empty());
}

}  // namespace
}  // namespace ocicni::config
