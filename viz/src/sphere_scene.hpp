#pragma once
// Builds the VTK scene of a SphereFigure into a render window, one renderer
// per panel. Private to viz: VTK types never leave this library.

#include <vtkRenderWindow.h>
#include <vtkRenderer.h>
#include <vtkSmartPointer.h>

#include <vector>

#include "ssrl/viz/sphere_figure.hpp"

namespace ssrl::viz::detail {

// Removes the window's renderers and adds one per panel, laid out in a grid.
// Returns them in panel order. Cameras are kept from `previous` when the
// panel count matches (the user's rotation survives live updates).
std::vector<vtkSmartPointer<vtkRenderer>> build_scene(vtkRenderWindow* window, const SphereFigure& figure,
                                                      const std::vector<vtkSmartPointer<vtkRenderer>>& previous);

void reset_camera(vtkRenderer* renderer);

// Keeps the whole sphere in view whatever the panel's shape: the 30-degree
// view angle applies to the panel's shorter side.
void fit_cameras(vtkRenderWindow* window);

}  // namespace ssrl::viz::detail
