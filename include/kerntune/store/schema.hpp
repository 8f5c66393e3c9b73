#pragma once
// The store's schema as data: the kerntune application_id and the ordered list
// of migrations. Migration i takes a database from user_version i-1 to i; each
// runs inside one transaction together with the user_version bump, so a crash
// mid-migration leaves the previous version intact. Never edit a released
// migration: append a new one. Reference: docs/store.md.
#include <cstdint>
#include <span>

namespace kerntune::store {

/// PRAGMA application_id of every kerntune store ("KTUN" in ASCII).
inline constexpr std::int32_t kApplicationId = 0x4B54554E;

struct Migration {
  int version;              ///< user_version after this migration
  const char* description;  ///< one line, shown in docs and logs
  const char* sql;          ///< one or more statements (no BEGIN/COMMIT)
};

/// All migrations in order; migrations()[i].version == i + 1.
std::span<const Migration> migrations();

}  // namespace kerntune::store
