#include "tools/build/layout.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ocicni::layout {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// A map line as lld writes it: the name indented by its kind.
std::string Line(uint64_t address, uint64_t size, int align, int depth,
                 const std::string& name) {
  return absl::StrFormat("%16x %16x %8x %5d %s%s\n", address, address, size,
                         align, std::string(1 + 8 * depth, ' ').substr(1),
                         name);
}

constexpr char kHeader[] =
    "             VMA              LMA     Size Align Out     In      Symbol\n";

// .text at 0x100000: a large archive section (one function of it is run),
// two small functions of our code, a second copy of a local clone inside
// another large archive section that is never run, and a .rodata table.
std::string TestMap() {
  std::string map = kHeader;
  map += Line(0x100000, 0x40000, 64, 0, ".text");
  map += Line(0x100000, 0x30000, 16, 1, "libbig.a(big.o):(.text)");
  map += Line(0x100000, 0x100, 1, 2, "big_init");
  map += Line(0x12f000, 0x100, 1, 2, "big_rarely_used");
  map += Line(0x130000, 0x40, 16, 1, "ours.o:(.text.Hot)");
  map += Line(0x130000, 0x40, 1, 2, "Hot");
  map += Line(0x130040, 0x40, 16, 1, "ours.o:(.text.clone.isra.0)");
  map += Line(0x130040, 0x40, 1, 2, "clone.isra.0");
  map += Line(0x130080, 0xff80, 16, 1, "libcold.a(cold.o):(.text)");
  map += Line(0x130080, 0x40, 1, 2, "clone.isra.0");
  map += Line(0x130100, 0x40, 1, 2, "Cold");
  map += Line(0x140000, 0x1000, 64, 0, ".rodata");
  map += Line(0x140000, 0x800, 8, 1, "ours.o:(.rodata.kTable)");
  map += Line(0x140000, 0x800, 1, 2, "kTable");
  map += Line(0x140800, 0x800, 8, 1, "ours.o:(.rodata.kUnused)");
  map += Line(0x140800, 0x800, 1, 2, "kUnused");
  map += Line(0, 0x50, 1, 0, ".comment");
  map += Line(0, 0x50, 1, 1, "<internal>:(.comment)");
  return map;
}

TEST(ParseLinkMapTest, ReadsSectionsAndSymbols) {
  absl::StatusOr<LinkMap> map = ParseLinkMap(TestMap());
  ASSERT_TRUE(map.ok()) << map.status();
  ASSERT_EQ(map->sections().size(), 7u);
  const InputSection& big = map->sections()[0];
  EXPECT_EQ(big.output, ".text");
  EXPECT_EQ(big.name, "libbig.a(big.o):(.text)");
  EXPECT_EQ(big.address, 0x100000u);
  EXPECT_EQ(big.size, 0x30000u);
  EXPECT_EQ(big.align, 16u);
  ASSERT_EQ(big.symbols.size(), 2u);
  EXPECT_EQ(big.symbols[1].second, "big_rarely_used");
  EXPECT_EQ(map->sections()[4].output, ".rodata");

  EXPECT_EQ(map->Find(0x12f010), 0);
  EXPECT_EQ(map->Find(0x130041), 2);
  EXPECT_EQ(map->Find(0x0ffff0), -1);
  EXPECT_EQ(map->Find(0x140fff), 5);
  EXPECT_EQ(map->Find(0x141000), -1);
  EXPECT_EQ(map->Find(0x10), -1);  // .comment is not in memory.
  EXPECT_EQ(map->FindByName("ours.o:(.text.Hot)"), 1);
  EXPECT_EQ(map->FindByName("nope"), -1);
}

TEST(ParseLinkMapTest, RejectsOtherText) {
  absl::StatusOr<LinkMap> map = ParseLinkMap("hello\n");
  EXPECT_EQ(map.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(map.status().message(), HasSubstr("line 1"));

  map = ParseLinkMap(absl::StrCat(kHeader, "  10 10 zz 1 .text\n"));
  EXPECT_EQ(map.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(map.status().message(), HasSubstr("line 2"));

  EXPECT_FALSE(ParseLinkMap("").ok());
}

// Tests on TestMap(), parsed once per test.
class TestMapTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(map_.ok()) << map_.status(); }

  absl::StatusOr<LinkMap> map_ = ParseLinkMap(TestMap());
};
using ToTouchesTest = TestMapTest;
using OrderSectionsTest = TestMapTest;

TEST_F(ToTouchesTest, NamesSectionAndLineOnce) {
  std::vector<Touch> touches =
      ToTouches(*map_, {0x130010, 0x100044, 0x130020, 0x50, 0x140801});
  ASSERT_EQ(touches.size(), 3u);
  EXPECT_EQ(touches[0].section, "ours.o:(.text.Hot)");
  EXPECT_EQ(touches[0].offset, 0u);
  EXPECT_EQ(touches[1].section, "libbig.a(big.o):(.text)");
  EXPECT_EQ(touches[1].offset, 0x40u);
  EXPECT_EQ(touches[2].section, "ours.o:(.rodata.kUnused)");
  EXPECT_EQ(touches[2].offset, 0u);
}

TEST_F(OrderSectionsTest, DenseFirstSparseAfterUntouchedOut) {
  // First touched: big.o's init (one line of 192 KiB), then Hot, then the
  // table.
  std::vector<Touch> touches = {{"libbig.a(big.o):(.text)", 0},
                                {"ours.o:(.text.Hot)", 0},
                                {"ours.o:(.rodata.kTable)", 64}};
  Ordering o = OrderSections(*map_, touches, {".text", ".rodata"});
  // Hot (dense) before big.o (sparse), although touched later; nothing
  // for the untouched sections.
  EXPECT_THAT(o.names, ElementsAre("Hot", "big_init", "kTable"));
  EXPECT_THAT(o.unplaced, IsEmpty());
  ASSERT_EQ(o.blocks.size(), 2u);
  EXPECT_EQ(o.blocks[0].output, ".text");
  // Before: big.o's first block and the one at 0x130000; after: Hot and
  // big.o's first line share the first block.
  EXPECT_EQ(o.blocks[0].before, 2);
  EXPECT_EQ(o.blocks[0].after, 1);
  EXPECT_EQ(o.blocks[1].before, 1);
  EXPECT_EQ(o.blocks[1].after, 1);
}

TEST_F(OrderSectionsTest, SparseSectionGoesWhereItAddsFewestBlocks) {
  // big.o is touched at its start and at its end (0x2f000): wherever it
  // goes that is two blocks; cold.o (64 KiB) once, at its start.
  std::vector<Touch> touches = {{"libbig.a(big.o):(.text)", 0},
                                {"libbig.a(big.o):(.text)", 0x2f000},
                                {"libcold.a(cold.o):(.text)", 0x80},
                                {"ours.o:(.text.Hot)", 0}};
  Ordering o = OrderSections(*map_, touches, {".text"});
  // After Hot, cold.o's touched line shares Hot's block; then big.o's
  // start does too, and its end adds one.
  EXPECT_THAT(o.names, ElementsAre("Hot", "Cold", "big_init"));
  EXPECT_EQ(o.blocks[0].before, 3);
  EXPECT_EQ(o.blocks[0].after, 2);
}

TEST_F(OrderSectionsTest, SharedLocalNameUsedOnlyIfItMovesLittle) {
  // ours.o's clone has only a name that cold.o (64 KiB, untouched) also
  // defines: listing it would move cold.o along, so it is left out.
  std::vector<Touch> touches = {{"ours.o:(.text.clone.isra.0)", 0},
                                {"ours.o:(.text.Hot)", 0}};
  Ordering o = OrderSections(*map_, touches, {".text"});
  EXPECT_THAT(o.names, ElementsAre("Hot"));
  EXPECT_THAT(o.unplaced, ElementsAre("ours.o:(.text.clone.isra.0)"));

  // Once cold.o is densely touched anyway, the name costs nothing more.
  std::vector<Touch> dense = touches;
  for (uint64_t offset = 0; offset < 0xff80; offset += 4096) {
    dense.push_back({"libcold.a(cold.o):(.text)", offset});
  }
  o = OrderSections(*map_, dense, {".text"});
  EXPECT_THAT(o.names, ElementsAre("clone.isra.0", "Hot"));
  EXPECT_THAT(o.unplaced, IsEmpty());
}

TEST_F(OrderSectionsTest, IgnoresTouchesOfSectionsTheMapLacks) {
  std::vector<Touch> touches = {{"gone.o:(.text.Old)", 0},
                                {"ours.o:(.text.Hot)", 0x1000}};
  Ordering o = OrderSections(*map_, touches, {".text"});
  EXPECT_THAT(o.names, IsEmpty());  // 0x1000 is past Hot's 64 bytes.
}

}  // namespace
}  // namespace ocicni::layout
