// The engine's side of the registry: each method file's factory, by name.
#include <map>

#include "methods/method.hpp"
#include "methods/registry.hpp"
#include "ssrl/errors.hpp"

namespace ssrl {

#define SSRL_DECLARE(id)       \
  MethodInfo id##_info();      \
  std::unique_ptr<Method> make_##id(const MethodEnv& env);
SSRL_METHODS(SSRL_DECLARE)
#undef SSRL_DECLARE

std::unique_ptr<Method> make_method(const MethodEnv& env) {
  using Factory = std::unique_ptr<Method> (*)(const MethodEnv&);
  static const std::map<std::string, Factory> factories = {
#define SSRL_ENTRY(id) {id##_info().name, &make_##id},
      SSRL_METHODS(SSRL_ENTRY)
#undef SSRL_ENTRY
  };
  const std::string& base = find_method(env.cfg.method).base;
  const auto it = factories.find(base);
  if (it == factories.end()) throw ConfigError("method", "no implementation of method '" + base + "'");
  return it->second(env);
}

}  // namespace ssrl
