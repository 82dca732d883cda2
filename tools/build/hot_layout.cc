// hot_layout: the link order of tools/build/hot_symbols.txt, from lld link
// maps and the addresses runs touched (see layout.h; tools/build/
// hot_symbols.sh drives it).
//
//   hot_layout touches MAP < ADDRESSES > TOUCHES
//       ADDRESSES: one hex address per line (its last field), in the order
//       first touched, of the binary that MAP (lld -Map, --no-demangle)
//       describes. TOUCHES: "OFFSET SECTION" per line touched in .text
//       or .rodata (the sections ordered), valid for any later link of the
//       same objects.
//   hot_layout order MAP[,MAP...] TOUCHES... > ORDERING
//       The ordering file for the binaries the maps describe (links of the
//       same code in any order): the touched sections of .text and
//       .rodata, dense ones first. A section in several maps counts once,
//       as the first map has it. Prints to stderr what it left out and the
//       64 KiB blocks the touched lines take in the first map's binary and
//       in the new order.
#include <algorithm>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "tools/build/layout.h"

namespace {

using ocicni::layout::InputSection;
using ocicni::layout::LinkMap;
using ocicni::layout::Touch;

// The output sections the ordering file orders.
const std::vector<std::string>& Ordered() {
  static const auto* const kOrdered =
      new std::vector<std::string>{".text", ".rodata"};
  return *kOrdered;
}

absl::StatusOr<LinkMap> ReadMap(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError("cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  absl::StatusOr<LinkMap> map = ocicni::layout::ParseLinkMap(text.str());
  if (!map.ok()) {
    return absl::InvalidArgumentError(path + ": " +
                                      std::string(map.status().message()));
  }
  return map;
}

int Touches(const LinkMap& map) {
  std::vector<uint64_t> addresses;
  std::string line;
  int number = 0;
  while (std::getline(std::cin, line)) {
    ++number;
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, ' ', absl::SkipWhitespace());
    if (fields.empty()) continue;
    uint64_t address;
    if (!absl::SimpleHexAtoi(fields.back(), &address)) {
      std::cerr << "hot_layout: stdin line " << number
                << ": not a hex address: " << line << "\n";
      return 1;
    }
    addresses.push_back(address);
  }
  for (const Touch& t : ocicni::layout::ToTouches(map, addresses)) {
    const std::string& output =
        map.sections()[map.FindByName(t.section)].output;
    if (std::find(Ordered().begin(), Ordered().end(), output) ==
        Ordered().end()) {
      continue;
    }
    std::cout << t.offset << " " << t.section << "\n";
  }
  return 0;
}

int Order(const LinkMap& map, const std::vector<std::string>& files) {
  std::vector<Touch> touches;
  for (const std::string& path : files) {
    std::ifstream in(path);
    if (!in) {
      std::cerr << "hot_layout: cannot read " << path << "\n";
      return 1;
    }
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
      ++number;
      if (absl::StripAsciiWhitespace(line).empty()) continue;
      std::pair<absl::string_view, absl::string_view> f =
          absl::StrSplit(line, absl::MaxSplits(' ', 1));
      Touch t;
      if (!absl::SimpleAtoi(f.first, &t.offset) || f.second.empty()) {
        std::cerr << "hot_layout: " << path << ":" << number
                  << ": not \"OFFSET SECTION\": " << line << "\n";
        return 1;
      }
      t.section = std::string(f.second);
      touches.push_back(std::move(t));
    }
  }
  ocicni::layout::Ordering ordering =
      ocicni::layout::OrderSections(map, touches, Ordered());
  for (const std::string& name : ordering.names) std::cout << name << "\n";
  // Sections left out, per output section: a count and the largest.
  absl::flat_hash_map<std::string, std::pair<int, const InputSection*>> left;
  for (const std::string& name : ordering.unplaced) {
    const InputSection& s = map.sections()[map.FindByName(name)];
    auto& [count, largest] = left[s.output];
    ++count;
    if (largest == nullptr || s.size > largest->size) largest = &s;
  }
  for (const auto& b : ordering.blocks) {
    auto it = left.find(b.output);
    if (it == left.end()) continue;
    std::cerr << "hot_layout: " << b.output << ": " << it->second.first
              << " touched sections left out (no name places them alone; "
                 "the largest: "
              << it->second.second->name << ", " << it->second.second->size
              << " bytes)\n";
  }
  for (const auto& b : ordering.blocks) {
    std::cerr << "hot_layout: " << b.output << ": touched lines in " << b.before
              << " blocks of 64 KiB, " << b.after
              << " in the new order (left-out sections not counted)\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() < 2 || (args[0] != "touches" && args[0] != "order") ||
      (args[0] == "touches" && args.size() != 2)) {
    std::cerr << "usage: hot_layout touches MAP < ADDRESSES > TOUCHES\n"
                 "       hot_layout order MAP[,MAP...] TOUCHES... > ORDERING\n";
    return 2;
  }
  const std::vector<std::string> paths = absl::StrSplit(args[1], ',');
  if (args[0] == "touches" && paths.size() != 1) {
    std::cerr << "hot_layout: touches takes the map of one binary\n";
    return 2;
  }
  // The first map's sections, then those of the others that it lacks.
  std::vector<ocicni::layout::InputSection> sections;
  absl::flat_hash_set<std::string> names;
  for (const std::string& path : paths) {
    absl::StatusOr<LinkMap> map = ReadMap(path);
    if (!map.ok()) {
      std::cerr << "hot_layout: " << map.status().message() << "\n";
      return 1;
    }
    std::vector<std::string> added;
    for (const ocicni::layout::InputSection& s : map->sections()) {
      if (names.contains(s.name)) continue;
      sections.push_back(s);
      added.push_back(s.name);
    }
    names.insert(added.begin(), added.end());
  }
  LinkMap map(std::move(sections));
  if (args[0] == "touches") return Touches(map);
  return Order(map, std::vector<std::string>(args.begin() + 2, args.end()));
}
