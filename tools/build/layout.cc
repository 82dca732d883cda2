#include "tools/build/layout.h"

#include <algorithm>
#include <climits>
#include <optional>
#include <tuple>

#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace ocicni::layout {
namespace {

// A section of at most this size, or with at least half of its pages
// touched, is dense: placed among the others in the order first touched.
constexpr uint64_t kSmall = 8 * 1024;
constexpr uint64_t kPage = 4096;
// A name that more than one section defines is used only if the other
// sections it would move, besides densely touched ones, are this small.
constexpr uint64_t kMaxDrag = 4 * 1024;

uint64_t AlignUp(uint64_t address, uint64_t align) {
  if (align <= 1) return address;
  return (address + align - 1) / align * align;
}

}  // namespace

LinkMap::LinkMap(std::vector<InputSection> sections)
    : sections_(std::move(sections)) {
  for (int i = 0; i < static_cast<int>(sections_.size()); ++i) {
    const InputSection& s = sections_[i];
    by_name_.try_emplace(s.name, i);
    // Sections outside the loaded image (.comment, .symtab) sit at 0.
    if (s.address != 0 && s.size != 0) by_address_.emplace_back(s.address, i);
  }
  std::sort(by_address_.begin(), by_address_.end());
}

int LinkMap::Find(uint64_t address) const {
  auto it = std::upper_bound(by_address_.begin(), by_address_.end(),
                             std::make_pair(address, INT_MAX));
  if (it == by_address_.begin()) return -1;
  --it;
  const InputSection& s = sections_[it->second];
  return address < s.address + s.size ? it->second : -1;
}

int LinkMap::FindByName(absl::string_view name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? -1 : it->second;
}

absl::StatusOr<LinkMap> ParseLinkMap(absl::string_view text) {
  // Each line: VMA LMA Size (hex) Align (decimal), then the name, indented
  // by its kind: 1 space for an output section, 9 for an input section,
  // 17 for a symbol.
  std::vector<InputSection> sections;
  std::string output;
  int current = -1;
  int number = 0;
  bool header = false;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++number;
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    if (!header) {
      if (absl::StrContains(line, "VMA") && absl::StrContains(line, "Symbol")) {
        header = true;
        continue;
      }
      return absl::InvalidArgumentError(
          absl::StrCat("line ", number, ": not an lld link map (no header)"));
    }
    uint64_t fields[4];
    absl::string_view rest = line;
    bool ok = true;
    for (int f = 0; f < 4 && ok; ++f) {
      rest = absl::StripLeadingAsciiWhitespace(rest);
      size_t end = rest.find(' ');
      if (end == absl::string_view::npos) {
        ok = false;
        break;
      }
      absl::string_view token = rest.substr(0, end);
      ok = f == 3 ? absl::SimpleAtoi(token, &fields[f])
                  : absl::SimpleHexAtoi(token, &fields[f]);
      rest.remove_prefix(end);
    }
    const size_t indent = rest.find_first_not_of(' ');
    if (!ok || indent == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", number, ": not a link map line: ", line));
    }
    const absl::string_view name = rest.substr(indent);
    if (indent <= 1) {
      output = std::string(name);
      current = -1;
    } else if (indent <= 9) {
      InputSection s;
      s.output = output;
      s.name = std::string(name);
      s.address = fields[0];
      s.size = fields[2];
      s.align = fields[3];
      sections.push_back(std::move(s));
      current = static_cast<int>(sections.size()) - 1;
    } else if (current >= 0) {
      sections[current].symbols.emplace_back(fields[0], std::string(name));
    }
  }
  if (!header) return absl::InvalidArgumentError("empty link map");
  for (InputSection& s : sections) {
    std::stable_sort(
        s.symbols.begin(), s.symbols.end(),
        [](const auto& a, const auto& b) { return a.first < b.first; });
  }
  return LinkMap(std::move(sections));
}

std::vector<Touch> ToTouches(const LinkMap& map,
                             absl::Span<const uint64_t> addresses) {
  std::vector<Touch> touches;
  absl::flat_hash_set<std::pair<int, uint64_t>> seen;
  for (uint64_t address : addresses) {
    const int i = map.Find(address);
    if (i < 0) continue;
    const InputSection& s = map.sections()[i];
    const uint64_t offset = (address - s.address) / kLine * kLine;
    if (seen.insert({i, offset}).second) touches.push_back({s.name, offset});
  }
  return touches;
}

namespace {

struct Touched {
  int first = INT_MAX;                // Rank of the first touch.
  absl::btree_set<uint64_t> offsets;  // Lines touched.
};

class Orderer {
 public:
  Orderer(const LinkMap& map, absl::Span<const Touch> touches) : map_(map) {
    int rank = 0;
    for (const Touch& t : touches) {
      const int i = map.FindByName(t.section);
      if (i < 0 || t.offset >= map.sections()[i].size) continue;
      Touched& info = touched_[i];
      info.first = std::min(info.first, rank++);
      info.offsets.insert(t.offset / kLine * kLine);
    }
    for (int i = 0; i < static_cast<int>(map.sections().size()); ++i) {
      for (const auto& [address, name] : map.sections()[i].symbols) {
        definitions_[name].push_back(i);
      }
    }
  }

  void Order(const std::string& output, Ordering* ordering) {
    std::vector<int> sections;
    uint64_t start = UINT64_MAX;
    for (int i = 0; i < static_cast<int>(map_.sections().size()); ++i) {
      const InputSection& s = map_.sections()[i];
      if (s.output != output) continue;
      if (s.address != 0) start = std::min(start, s.address);
      if (touched_.contains(i)) sections.push_back(i);
    }
    if (sections.empty()) return;
    std::sort(sections.begin(), sections.end(), [this](int a, int b) {
      return touched_[a].first < touched_[b].first;
    });

    Ordering::Blocks blocks{output};
    absl::flat_hash_set<uint64_t> before;
    for (int i : sections) AddBlocks(i, map_.sections()[i].address, &before);
    blocks.before = static_cast<int>(before.size());

    // Each section's name, and the sections that name moves.
    std::vector<int> dense, sparse;
    absl::flat_hash_map<int, std::pair<std::string, std::vector<int>>> anchor;
    for (int i : sections) {
      std::optional<std::pair<std::string, std::vector<int>>> a = Anchor(i);
      if (!a.has_value()) {
        ordering->unplaced.push_back(map_.sections()[i].name);
        continue;
      }
      anchor.emplace(i, *std::move(a));
      (Dense(i) ? dense : sparse).push_back(i);
    }

    // Lay them out as the linker will, counting the blocks touched.
    uint64_t address = start;
    absl::flat_hash_set<int> placed;
    absl::flat_hash_set<uint64_t> after;
    auto place = [&](int i) {
      const auto& [name, moved] = anchor.at(i);
      ordering->names.push_back(name);
      std::vector<int> group = moved;
      std::sort(group.begin(), group.end(), [this](int a, int b) {
        return std::make_tuple(First(a), a) < std::make_tuple(First(b), b);
      });
      for (int j : group) {
        if (!placed.insert(j).second) continue;
        const InputSection& s = map_.sections()[j];
        if (s.output != output) continue;
        address = AlignUp(address, s.align);
        AddBlocks(j, address, &after);
        address += s.size;
      }
    };
    for (int i : dense) {
      if (!placed.contains(i)) place(i);
    }
    // Then each sparse section where it adds the fewest blocks (the
    // smallest first among equals, so that the next ones start sooner).
    std::vector<int> rest;
    for (int i : sparse) {
      if (!placed.contains(i)) rest.push_back(i);
    }
    while (!rest.empty()) {
      size_t best = 0;
      std::pair<int, uint64_t> best_cost{INT_MAX, 0};
      for (size_t k = 0; k < rest.size(); ++k) {
        const InputSection& s = map_.sections()[rest[k]];
        absl::flat_hash_set<uint64_t> blocks_of_k;
        AddBlocks(rest[k], AlignUp(address, s.align), &blocks_of_k);
        int added = 0;
        for (uint64_t block : blocks_of_k) added += !after.contains(block);
        const std::pair<int, uint64_t> cost{added, s.size};
        if (cost < best_cost) {
          best_cost = cost;
          best = k;
        }
      }
      place(rest[best]);
      rest.erase(rest.begin() + best);
      rest.erase(std::remove_if(rest.begin(), rest.end(),
                                [&](int i) { return placed.contains(i); }),
                 rest.end());
    }
    blocks.after = static_cast<int>(after.size());
    ordering->blocks.push_back(std::move(blocks));
  }

 private:
  // AddBlocks adds the blocks that section i's touched lines take when it
  // starts at `address` (none if it is untouched).
  void AddBlocks(int i, uint64_t address,
                 absl::flat_hash_set<uint64_t>* blocks) const {
    auto it = touched_.find(i);
    if (it == touched_.end()) return;
    for (uint64_t offset : it->second.offsets) {
      blocks->insert((address + offset) / kBlock);
    }
  }

  int First(int i) const {
    auto it = touched_.find(i);
    return it == touched_.end() ? INT_MAX : it->second.first;
  }

  bool Dense(int i) const {
    const InputSection& s = map_.sections()[i];
    if (s.size <= kSmall) return true;
    absl::flat_hash_set<uint64_t> pages;
    for (uint64_t offset : touched_.at(i).offsets) pages.insert(offset / kPage);
    return pages.size() * kPage * 2 >= s.size;
  }

  // Anchor: the name that places section i (defined by it alone if there is
  // one), with the sections it moves; none if every name would move large
  // sections that are not densely touched.
  std::optional<std::pair<std::string, std::vector<int>>> Anchor(int i) const {
    const InputSection& s = map_.sections()[i];
    for (const auto& [address, name] : s.symbols) {
      const std::vector<int>& defs = definitions_.at(name);
      if (defs.size() == 1) return std::make_pair(name, defs);
    }
    std::optional<std::pair<std::string, std::vector<int>>> best;
    uint64_t best_drag = UINT64_MAX;
    for (const auto& [address, name] : s.symbols) {
      const std::vector<int>& defs = definitions_.at(name);
      uint64_t drag = 0;
      for (int j : defs) {
        if (j != i && !(touched_.contains(j) && Dense(j))) {
          drag += map_.sections()[j].size;
        }
      }
      if (drag < best_drag) {
        best_drag = drag;
        best = std::make_pair(name, defs);
      }
    }
    if (best_drag > kMaxDrag) return std::nullopt;
    return best;
  }

  const LinkMap& map_;
  absl::flat_hash_map<int, Touched> touched_;
  absl::flat_hash_map<std::string, std::vector<int>> definitions_;
};

}  // namespace

Ordering OrderSections(const LinkMap& map, absl::Span<const Touch> touches,
                       absl::Span<const std::string> outputs) {
  Ordering ordering;
  Orderer orderer(map, touches);
  for (const std::string& output : outputs) orderer.Order(output, &ordering);
  // A name placing sections of two outputs is listed once.
  absl::flat_hash_set<std::string> seen;
  std::vector<std::string> names;
  for (std::string& name : ordering.names) {
    if (seen.insert(name).second) names.push_back(std::move(name));
  }
  ordering.names = std::move(names);
  return ordering;
}

}  // namespace ocicni::layout
