"""Beacon's crime analysis library.

A plain library (numpy, scipy, h3, pyproj): no Django import anywhere below this
package, so it can be tested against published numbers and used from the CLI, the
API and background jobs alike.
"""
