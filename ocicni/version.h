// The release version of the ocicni library (and of ocicnictl, which ships
// with it).
//
//   std::cout << "ocicni " << ocicni::kVersion;
#ifndef OCICNI_OCICNI_VERSION_H_
#define OCICNI_OCICNI_VERSION_H_

namespace ocicni {

// kVersion is the library's semantic version.
inline constexpr char kVersion[] = "0.1.0";

}  // namespace ocicni

#endif  // OCICNI_OCICNI_VERSION_H_
