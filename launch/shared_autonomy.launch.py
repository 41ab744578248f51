"""LILAC shared autonomy in the simulated tabletop: sim_node + executor_node +
shared_autonomy_node + correction_node + perception_node.

    ros2 launch ifagent_ros shared_autonomy.launch.py [params_file:=/path/to/shared_autonomy.yaml]

Set `model_path` in the params file to a model from `ifagent train` (empty: end-effector
teleop). Run `ros2 run joy joy_node` beside it, and speech.launch.py for spoken corrections
(or publish text on /ifagent/speech/text). Instructions go to /ifagent/instruction. Without a
ROS install, `ifagent up config/shared_autonomy.yaml` runs the same graph from the same file.
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node


def generate_launch_description() -> LaunchDescription:
    default_params = os.path.join(
        get_package_share_directory("ifagent_ros"), "config", "shared_autonomy.yaml"
    )
    params_file = LaunchConfiguration("params_file")
    return LaunchDescription(
        [
            DeclareLaunchArgument(
                "params_file",
                default_value=default_params,
                description="ROS 2 params file for the shared-autonomy graph",
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
                executable="shared_autonomy_node",
                name="shared_autonomy_node",
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
            Node(
                package="ifagent_ros",
                executable="perception_node",
                name="perception_node",
                parameters=[params_file],
                output="screen",
            ),
        ]
    )
