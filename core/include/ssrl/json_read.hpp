#pragma once
// JSON from outside the program (config and sweep files, --set values, result
// files, what a merged database holds), parsed with its nesting bounded: a
// value nested 100 000 levels deep is refused at level kMaxJsonDepth instead
// of overflowing the stack later, and an error message never repeats more
// than a short piece of the text.
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace ssrl {

inline constexpr int kMaxJsonDepth = 64;

// Why the text is not acceptable JSON, in a short sentence naming the setting
// (the last key read) when a number is out of range; empty when it parses.
template <class Input>
nlohmann::json parse_json_bounded(Input&& input, std::string* error) {
  using json = nlohmann::json;
  struct TooDeep {};
  std::string last_key;
  const json::parser_callback_t bound = [&last_key](int depth, json::parse_event_t event, json& parsed) {
    if (depth > kMaxJsonDepth) throw TooDeep{};
    if (event == json::parse_event_t::key && parsed.is_string()) last_key = parsed.get<std::string>();
    return true;
  };
  auto shorten = [](std::string s) { return s.size() > 200 ? s.substr(0, 197) + "..." : s; };
  try {
    json j = json::parse(std::forward<Input>(input), bound, true);
    error->clear();
    return j;
  } catch (const TooDeep&) {
    *error = "nested more than " + std::to_string(kMaxJsonDepth) + " levels deep";
  } catch (const json::out_of_range& e) {  // 1e400: a number no double holds
    const std::string key = last_key.size() > 60 ? last_key.substr(0, 57) + "..." : last_key;
    *error = (key.empty() ? "" : key + ": ") + "number out of range (" + shorten(e.what()) + ")";
  } catch (const json::exception& e) {
    *error = shorten(e.what());
  }
  return json(json::value_t::discarded);
}

}  // namespace ssrl
