"""Spoken corrections: audio_capture_node + speech_node + correction_node.

    ros2 launch ifagent_ros speech.launch.py [params_file:=/path/to/speech.yaml]

Run beside sim.launch.py or franka.launch.py. Without a ROS install, `ifagent up
config/speech.yaml` runs the same nodes from the same params file.
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node


def generate_launch_description() -> LaunchDescription:
    share = get_package_share_directory("ifagent_ros")
    default_params = os.path.join(share, "config", "speech.yaml")
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
                executable="audio_capture_node",
                name="audio_capture_node",
                parameters=[params_file],
                output="screen",
            ),
            Node(
                package="ifagent_ros",
                executable="speech_node",
                name="speech_node",
                parameters=[params_file],
                output="screen",
            ),
            Node(
                package="ifagent_ros",
                executable="correction_node",
                name="correction_node",
                parameters=[params_file],
                output="screen",
            ),
        ]
    )
