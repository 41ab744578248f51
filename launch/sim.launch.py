"""Simulated tabletop: PyBullet sim_node + executor_node + teleop_node + perception_node.

    ros2 launch ifagent_ros sim.launch.py [params_file:=/path/to/sim.yaml]

A gamepad driver is not started here: run `ros2 run joy joy_node` beside it (or add the
scripted_gamepad_node, whose parameters are in the same config/sim.yaml). Without a ROS
install, `ifagent up config/sim.yaml` runs the same graph from the same params file.
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node


def generate_launch_description() -> LaunchDescription:
    default_params = os.path.join(get_package_share_directory("ifagent_ros"), "config", "sim.yaml")
    params_file = LaunchConfiguration("params_file")
    return LaunchDescription(
        [
            DeclareLaunchArgument(
                "params_file",
                default_value=default_params,
                description="ROS 2 params file for all ifagent_ros nodes",
            ),
            Node(
                package="ifagent_ros",
                executable="sim_node",
                name="sim_node",
                parameters=[params_file],
                output="screen",
            ),
            Node(
                package="ifagent_ros",
                executable="executor_node",
                name="executor_node",
                parameters=[params_file],
                output="screen",
            ),
            Node(
                package="ifagent_ros",
                executable="teleop_node",
                name="teleop_node",
                parameters=[params_file],
                output="screen",
            ),
            Node(
                package="ifagent_ros",
                executable="perception_node",
                name="perception_node",
                parameters=[params_file],
                output="screen",
            ),
        ]
    )
