// Project file schema and its migrations. Version N is reached by applying migration[N-1] to version N-1,
// each inside one transaction, so a crash mid-upgrade leaves the file at the previous version.
#pragma once

namespace mls {
class Database;

constexpr int kSchemaVersion = 2;

// Brings a freshly opened file (empty or older) up to kSchemaVersion. Throws for files newer than this build.
void migrateSchema(Database& db);
int readSchemaVersion(Database& db);
// Throws unless this build can use the file as it is: never a newer schema; read-only also no older one
// (it cannot be migrated without writing); never views or virtual tables. Called before the first write.
void requireReadableSchema(Database& db, bool read_only);

}  // namespace mls
