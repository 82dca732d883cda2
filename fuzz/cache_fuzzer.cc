// Fuzzes the reader of libcni cache files (DecodeCacheFile), which reads
// whatever is in <cacheDir>/results, and the writer's stability.
//
// Properties checked for each accepted file:
//   - a file without kind "cniCacheV1" is legacy and holds only a result;
//   - encoding it (EncodeCacheFile) gives a cniCacheV1 file that decodes
//     again, to the same fields;
//   - encoding is a fixed point after one step: encode(decode(encode(f)))
//     == encode(f).
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "fuzz/check.h"
#include "google/protobuf/util/message_differencer.h"
#include "types/cache.h"
#include "types/cni.pb.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using ::ocicni::types::DecodeCacheFile;
  using ::ocicni::types::DecodedCacheFile;
  using ::ocicni::types::EncodeCacheFile;
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);

  absl::StatusOr<DecodedCacheFile> decoded = DecodeCacheFile(bytes, "fuzz");
  if (!decoded.ok()) return 0;
  if (decoded->legacy) {
    OCICNI_FUZZ_CHECK(decoded->file.kind().empty() &&
                          decoded->file.container_id().empty() &&
                          decoded->file.config().empty(),
                      decoded->file.DebugString());
  }

  const std::string encoded = EncodeCacheFile(decoded->file);
  absl::StatusOr<DecodedCacheFile> again = DecodeCacheFile(encoded, "encoded");
  OCICNI_FUZZ_CHECK(again.ok(),
                    absl::StrCat(encoded, "\n", again.status().ToString()));
  OCICNI_FUZZ_CHECK(!again->legacy, encoded);
  OCICNI_FUZZ_CHECK(again->file.kind() == ocicni::types::kCacheKind, encoded);

  // Everything but kind (forced on encoding) survives the round trip.
  ocicni::types::CacheFile expected = decoded->file;
  expected.set_kind(std::string(ocicni::types::kCacheKind));
  const std::string reencoded = EncodeCacheFile(again->file);
  OCICNI_FUZZ_CHECK(reencoded == encoded,
                    absl::StrCat("not stable:\n", encoded, "\n", reencoded));
  OCICNI_FUZZ_CHECK(
      google::protobuf::util::MessageDifferencer::Equals(again->file, expected),
      absl::StrCat("fields changed: ", encoded,
                   "\nre-read: ", again->file.DebugString()));
  return 0;
}
