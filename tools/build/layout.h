// The link order of a statically linked binary (lld's
// --symbol-ordering-file), computed from what its runs touch.
//
// The kernel maps a binary's file pages in 64 KiB blocks around every page a
// process touches (fault-around), so a process's RSS from its binary is 64 KiB
// per block that holds a touched byte. The linker moves whole input sections:
// a function of our code (compiled with -ffunction-sections) is one, but an
// object of a Debian archive puts all its functions in one `.text` section,
// often of 50-200 KiB, of which a run may touch one function. Placing such a
// section among the densely touched ones maps all of it; placing it anywhere
// costs the blocks its touched bytes fall in. OrderSections puts the densely
// touched sections first, in the order first touched, then the sparsely
// touched ones where they add the fewest blocks, and leaves untouched
// sections out. It names each section by a symbol defined only in it, since
// lld moves every section that defines a listed name: a local name that many
// objects define (a clone such as `foo.isra.0`) would pull all of them along.
//
//   // The map from lld -Map; the addresses in the order first touched.
//   absl::StatusOr<LinkMap> map = ParseLinkMap(map_text);
//   std::vector<Touch> touches = ToTouches(*map, addresses);
//   const std::vector<std::string> outputs = {".text", ".rodata"};
//   Ordering ordering = OrderSections(*map, touches, outputs);
//   for (const std::string& name : ordering.names) {
//     std::cout << name << "\n";
//   }
#ifndef OCICNI_TOOLS_BUILD_LAYOUT_H_
#define OCICNI_TOOLS_BUILD_LAYOUT_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace ocicni::layout {

// The unit the kernel maps a file around a touched page (fault-around).
inline constexpr uint64_t kBlock = 64 * 1024;
// Touches are recorded per line of this many bytes.
inline constexpr uint64_t kLine = 64;

// InputSection is one input section of the output, as the link map lists it.
struct InputSection {
  std::string output;  // The output section, e.g. ".text".
  // e.g. "/usr/lib/x86_64-linux-gnu/libc.a(malloc.o):(.text)"
  std::string name;
  uint64_t address = 0;
  uint64_t size = 0;
  uint64_t align = 1;
  // The symbols the section defines, in address order.
  std::vector<std::pair<uint64_t, std::string>> symbols;
};

// LinkMap is the input sections of a link, in the map's order.
class LinkMap {
 public:
  explicit LinkMap(std::vector<InputSection> sections);

  const std::vector<InputSection>& sections() const { return sections_; }
  // The index of the section holding `address`, or -1.
  int Find(uint64_t address) const;
  // The index of the section named `name` (the first, if several are), or
  // -1.
  int FindByName(absl::string_view name) const;

 private:
  std::vector<InputSection> sections_;
  // (address, index) of the sections that take space in memory, sorted.
  std::vector<std::pair<uint64_t, int>> by_address_;
  absl::flat_hash_map<std::string, int> by_name_;
};

// ParseLinkMap reads lld's map file (-Map=FILE; with --no-demangle, so that
// symbol names are the ones an ordering file takes). kInvalidArgument names
// the line when the text is not such a map.
absl::StatusOr<LinkMap> ParseLinkMap(absl::string_view text);

// Touch is a line of an input section that a run touched, named so that it
// stays valid across links with other orders.
struct Touch {
  std::string section;
  uint64_t offset = 0;  // A multiple of kLine.
};

// ToTouches maps `addresses` (in the order first touched) of the binary that
// `map` describes to touches, each line once; addresses outside any input
// section are skipped.
std::vector<Touch> ToTouches(const LinkMap& map,
                             absl::Span<const uint64_t> addresses);

// Ordering is the result of OrderSections.
struct Ordering {
  // The ordering file: one symbol name per placed section.
  std::vector<std::string> names;
  // Touched sections left out: each defines only names that would pull in
  // other sections that are large and not densely touched.
  std::vector<std::string> unplaced;
  // Per output section ordered: the 64 KiB blocks the touched lines take in
  // the new order (from the output section's start), and before it.
  struct Blocks {
    std::string output;
    int before = 0;
    int after = 0;
  };
  std::vector<Blocks> blocks;
};

// OrderSections computes the order of the touched input sections of each
// output section in `outputs` (see the file comment). Touches of sections
// that `map` does not have are ignored (code that changed since).
Ordering OrderSections(const LinkMap& map, absl::Span<const Touch> touches,
                       absl::Span<const std::string> outputs);

}  // namespace ocicni::layout

#endif  // OCICNI_TOOLS_BUILD_LAYOUT_H_
