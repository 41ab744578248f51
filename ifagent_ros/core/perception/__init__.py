"""Perception without rclpy: geometry helpers and 2-D open-vocabulary detection."""
