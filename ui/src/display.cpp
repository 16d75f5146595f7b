// Can the X display be opened? Alone in its file: Xlib's macros (None, Bool,
// Status) must not meet Qt's or LibTorch's headers.
#include <X11/Xlib.h>

#include <cstdlib>
#include <string>

namespace ssrl::ui {

// Why the window cannot open on the X display that DISPLAY names ("" when it
// can, or when Wayland or QT_QPA_PLATFORM chooses another way): Qt would
// abort there too. The case of no display at all is have_display()'s.
std::string display_problem() {
  auto set = [](const char* name) {
    const char* v = std::getenv(name);
    return v != nullptr && *v != '\0';
  };
  if (!set("DISPLAY") || set("WAYLAND_DISPLAY")) return {};
  if (set("QT_QPA_PLATFORM") && std::string(std::getenv("QT_QPA_PLATFORM")).rfind("xcb", 0) != 0) return {};
  Display* dpy = XOpenDisplay(nullptr);
  if (dpy == nullptr)
    return std::string("cannot open the X display '") + std::getenv("DISPLAY") +
           "' (gone, or not allowed). Every command works without one (ssrl-workbench --help); for the window use "
           "a desktop session, ssh -X, or xvfb-run -a ssrl-workbench.";
  XCloseDisplay(dpy);
  return {};
}

}  // namespace ssrl::ui
