// Where the embedded demo project lives (the user's data folder) and creating it on first use.
#pragma once
#include <QString>

namespace mls {

QString demoProjectDir();
// Returns the demo project path, generating the dataset and project first if absent. Throws on failure.
QString ensureDemoProject();

}  // namespace mls
