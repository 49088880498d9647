# SPDX-License-Identifier: MIT
"""placeholder: filled by this session"""
