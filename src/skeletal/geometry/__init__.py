"""Rotations, forward kinematics, Procrustes alignment and cameras; batched, differentiable, torch and numpy."""
