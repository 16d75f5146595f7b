#pragma once
// One exception base with typed subclasses; main() maps them to exit codes.

#include <stdexcept>
#include <string>

namespace ssrl {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Invalid user input: an unknown method, a value out of range. Exit code 2.
class ConfigError : public Error {
 public:
  ConfigError(std::string field, const std::string& message)
      : Error(field.empty() ? message : field + ": " + message), field_(std::move(field)) {}
  const std::string& field() const { return field_; }

 private:
  std::string field_;
};

// A data file that is missing or does not parse.
class DataError : public Error {
 public:
  using Error::Error;
};

// The database could not be opened, is damaged, locked, or too new.
class StorageError : public Error {
 public:
  using Error::Error;
};

}  // namespace ssrl
