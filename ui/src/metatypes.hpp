#pragma once
// Plain structs that travel through queued signals between the worker
// thread and the GUI.
#include <QMetaType>

#include "ssrl/config.hpp"
#include "ssrl/records.hpp"

Q_DECLARE_METATYPE(ssrl::RunConfig)
Q_DECLARE_METATYPE(ssrl::EpochRecord)
Q_DECLARE_METATYPE(ssrl::RunOutcome)

namespace ssrl::ui {
void register_metatypes();
}
