"""Real Franka (FR3): executor_node + teleop_node only.

    ros2 launch ifagent_ros franka.launch.py [params_file:=/path/to/franka.yaml]

Launched by the user beforehand, NOT here (they own the robot's safety setup):
- the franka_ros2 bringup with the controller named in config/franka.yaml
  (`fr3_arm_controller` for joint trajectories, or a forward velocity controller), e.g.
  `ros2 launch franka_bringup franka.launch.py robot_ip:=<ip>`;
- the gamepad driver: `ros2 run joy joy_node`.
The executor is the only node that commands the arm; the robot's physical emergency stop stays
within reach whenever it runs.
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node


def generate_launch_description() -> LaunchDescription:
    default_params = os.path.join(
        get_package_share_directory("ifagent_ros"), "config", "franka.yaml"
    )
    params_file = LaunchConfiguration("params_file")
    return LaunchDescription(
        [
            DeclareLaunchArgument(
                "params_file",
                default_value=default_params,
                description="ROS 2 params file for the ifagent_ros nodes on the real robot",
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
        ]
    )
